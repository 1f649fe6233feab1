/// Which fields a reader decodes. Decoding is most of a reader's cost, and
/// many consumers (stats, filters) need two or three fields of each event.
public enum FieldSelection: Sendable {
    case all
    case none
    case named(Set<String>)

    @inlinable
    public func includes(_ name: String) -> Bool {
        switch self {
        case .all: return true
        case .none: return false
        case .named(let names): return names.contains(name)
        }
    }
}

public struct ReadOptions: Sendable {
    public var fields: FieldSelection
    /// Keep the printed text of text-trace events in `TraceEvent.rawText`.
    public var keepRawText: Bool

    public init(fields: FieldSelection = .all, keepRawText: Bool = true) {
        self.fields = fields
        self.keepRawText = keepRawText
    }
}

/// One streaming interface over every trace format: records arrive in global
/// timestamp order (ties keep each CPU's own order), and memory does not grow
/// with the file.
public protocol TraceReader: AnyObject {
    var path: String { get }
    var metadata: TraceMetadata { get }
    /// Streams every record to `body`. Throws `TraceError` for input that
    /// cannot be read, or rethrows what `body` throws.
    func forEach(_ options: ReadOptions, _ body: (TraceRecord) throws -> Void) throws
    /// Damaged records the last pass skipped (garbled or cut text lines;
    /// trace.dat records of an unknown event id or shorter than their format).
    var damagedEvents: Int { get }
}

extension TraceReader {
    public var damagedEvents: Int { 0 }
}
