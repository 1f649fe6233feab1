/// Which fields a reader decodes. Decoding is most of a reader's cost, and
/// many consumers (stats, filters) need two or three fields of each event.
public enum FieldSelection: Sendable {
    case all
    case none
    case named(Set<String>)
    /// Per event name; an event the map does not name gets no fields (a
    /// replay reads the fields of the events it types, and no others).
    case perEvent(EventFieldMap)

    /// Whether field `name` is decoded; for `.perEvent`, ask `forEvent` first.
    @inlinable
    public func includes(_ name: String) -> Bool {
        switch self {
        case .all: return true
        case .none: return false
        case .named(let names): return names.contains(name)
        case .perEvent: return true
        }
    }

    /// The selection for the fields of event `name` (readers ask once per
    /// format); never `.perEvent`.
    public func forEvent(_ name: String) -> FieldSelection {
        guard case .perEvent(let map) = self else { return self }
        guard let fields = map.fields(of: name), !fields.isEmpty else { return .none }
        return .named(fields)
    }
}

/// The fields wanted of each event, by exact name or by name prefix (the
/// syscall events: `sys_enter_`).
public struct EventFieldMap: Sendable {
    public var exact: [String: Set<String>]
    public var prefixes: [(prefix: String, fields: Set<String>)]

    public init(exact: [String: Set<String>] = [:], prefixes: [(prefix: String, fields: Set<String>)] = []) {
        self.exact = exact
        self.prefixes = prefixes
    }

    /// nil: the map does not name the event.
    public func fields(of event: String) -> Set<String>? {
        if let f = exact[event] { return f }
        for p in prefixes where event.hasPrefix(p.prefix) { return p.fields }
        return nil
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
    /// The same records as `forEach`, each event as a view that reads its
    /// fields when asked (valid only during the call to `body`).
    func forEachView(_ options: ReadOptions, _ body: (TraceRecordView) throws -> Void) throws
    /// Damaged records the last pass skipped (garbled or cut text lines;
    /// trace.dat records of an unknown event id or shorter than their format).
    var damagedEvents: Int { get }
    /// How far the pass under way has come through the file, 0…1, for a
    /// progress display; nil when the reader cannot tell. Readers refresh it
    /// every few thousand records, so read it from inside a pass's `body`.
    var fractionRead: Double? { get }
    /// The names of the events the file has formats for (a trace.dat's
    /// event formats); nil when the file carries no formats (text traces).
    var eventNames: Set<String>? { get }
}

extension TraceReader {
    public var damagedEvents: Int { 0 }
    public var fractionRead: Double? { nil }
    public var eventNames: Set<String>? { nil }

    /// Views of the events `forEach` builds: for readers that have nothing
    /// cheaper than the built event.
    public func forEachView(_ options: ReadOptions, _ body: (TraceRecordView) throws -> Void) throws {
        try forEach(options) { try body(TraceRecordView($0)) }
    }
}
