import Foundation

/// What the CLI may assume about where its output goes: colour and live
/// status lines only on a terminal, and never when `NO_COLOR` is set
/// (https://no-color.org: any non-empty value).
enum Terminal {
    static func isTTY(_ fd: Int32) -> Bool { isatty(fd) != 0 }

    static var noColor: Bool {
        guard let value = ProcessInfo.processInfo.environment["NO_COLOR"] else { return false }
        return !value.isEmpty
    }

    /// Colour for what is written to `fd`.
    static func colour(for fd: Int32) -> Bool { isTTY(fd) && !noColor }
}

/// ANSI colours for verdicts; every method returns its text unchanged when
/// colour is off, so formatters call them unconditionally.
struct Palette: Sendable {
    var enabled: Bool

    static let plain = Palette(enabled: false)

    private func paint(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    func violated(_ text: String) -> String { paint(text, "1;31") }
    func inconclusive(_ text: String) -> String { paint(text, "1;33") }
    func clean(_ text: String) -> String { paint(text, "1;32") }
    func dim(_ text: String) -> String { paint(text, "2") }
    func bold(_ text: String) -> String { paint(text, "1") }
}
