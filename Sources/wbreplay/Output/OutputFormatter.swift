/// The one formatter protocol: every output format (text, JSON, JSON Lines,
/// DOT …) of every command is an implementation of it. A formatter renders a
/// value the library returned; it never computes anything the library could.
protocol OutputFormatter {
    associatedtype Value
    /// Called once before the first value (headers, opening brackets).
    func begin(_ out: OutputStream)
    func write(_ value: Value, to out: OutputStream)
    /// Called once after the last value.
    func end(_ out: OutputStream)
}

extension OutputFormatter {
    func begin(_ out: OutputStream) {}
    func end(_ out: OutputStream) {}
}
