/// The first event of every wbreplay recording: an ftrace `print` written to
/// the instance's `trace_marker`, whose text carries what the analysis needs
/// to know about the recording (`wbreplay-recording: preset=writeback dev=7:0
/// block_size=4096 stable_writes=0 clock=mono version=0.1.0`).
///
/// It travels inside the ring buffer, so it survives any conversion of the
/// trace: `trace-cmd report`, the tracefs `trace` file and trace.dat all keep it.
public enum RecordingMarker {
    public static let prefix = "wbreplay-recording:"

    /// The marker text for `facts`, keys in the given order. Values must not
    /// contain spaces (they are device numbers, names and numbers).
    public static func text(_ facts: [(key: String, value: String)]) -> String {
        ([prefix] + facts.map { "\($0.key)=\($0.value.replacingSpaces())" }).joined(separator: " ")
    }

    /// The facts of a marker, from the `buf` field of an ftrace `print` event
    /// or from a printed line that contains it; `nil` when `text` holds no marker.
    public static func parse(_ text: String) -> [String: String]? {
        guard let range = text.range(of: prefix) else { return nil }
        var facts: [String: String] = [:]
        for token in text[range.upperBound...].split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
            guard let eq = token.firstIndex(of: "="), eq != token.startIndex else { continue }
            facts[String(token[..<eq])] = String(token[token.index(after: eq)...])
        }
        return facts
    }
}

private extension String {
    func replacingSpaces() -> String { String(map { $0 == " " ? "_" : $0 }) }
}

extension RecordingMarker {
    /// The facts of `event` if it is a wbreplay recording marker: an ftrace
    /// `print` whose `buf` field (trace.dat) or printed text (text traces) holds one.
    public static func facts(in event: TraceEvent) -> [String: String]? {
        guard event.name == "print" else { return nil }
        if let buf = event.fields.string("buf"), let facts = parse(buf) { return facts }
        return event.rawText.flatMap(parse)
    }
}
