/// One event as a reader holds it while handing it over: the header at hand,
/// each field read only when asked for. A consumer that needs a few fields
/// of some events (a replay: none of half of them) skips building a
/// `TraceEvent` — its fields array, its strings' reference counts — for
/// every one. Valid only during the call that receives it: a trace.dat view
/// reads the reader's record in place.
public struct EventView {
    public let timestamp: UInt64
    public let cpu: Int
    public let pid: Int32
    /// As `TraceEvent.formatID`.
    public let formatID: Int32
    /// Views with the same layout have the same fields at the same indices
    /// (one trace.dat event format, in one pass), so a consumer may look a
    /// field's index up once per layout, and a layout is always of one event
    /// name; nil when every event has its own field list (text traces,
    /// events built in memory).
    public let layout: Int?
    private let storage: Storage

    /// Both cases one word or a few plain ones: consumers copy views, and a
    /// `TraceEvent` inline made every copy a large one with its strings'
    /// reference counts.
    private enum Storage {
        case event(BuiltEvent)
        case dat(DatRecordView)
    }

    /// An event that exists already, boxed (see `Storage`).
    private final class BuiltEvent {
        let event: TraceEvent
        init(_ event: TraceEvent) { self.event = event }
    }

    /// A view of an event already built (text traces, events in memory).
    public init(_ event: TraceEvent) {
        timestamp = event.timestamp
        cpu = event.cpu
        pid = event.pid
        formatID = event.formatID
        layout = nil
        storage = .event(BuiltEvent(event))
    }

    /// A view of a trace.dat record (`DatRecordDecoder.view`).
    init(_ record: DatRecordView, timestamp: UInt64, cpu: Int, pid: Int32, formatID: Int32, layout: Int) {
        self.timestamp = timestamp
        self.cpu = cpu
        self.pid = pid
        self.formatID = formatID
        self.layout = layout
        storage = .dat(record)
    }

    /// As `TraceEvent.name`.
    public var name: String {
        switch storage {
        case .event(let built): return built.event.name
        case .dat(let record): return record.name
        }
    }

    /// As `TraceEvent.comm`.
    public var comm: String {
        switch storage {
        case .event(let built): return built.event.comm
        case .dat(let record): return record.comm
        }
    }

    /// The index of the field called `name` (among the fields the read
    /// options select), for `value(at:)`.
    public func fieldIndex(_ name: String) -> Int? {
        switch storage {
        case .event(let built): return built.event.fields.firstIndex { $0.name == name }
        case .dat(let record): return record.fieldIndex(name)
        }
    }

    /// The value of the field at `index`; nil when there is none (or, in a
    /// damaged trace.dat record, when its bytes are not all there — the
    /// field `event()` would leave out).
    public func value(at index: Int) -> FieldValue? {
        switch storage {
        case .event(let built):
            return built.event.fields.indices.contains(index) ? built.event.fields[index].value : nil
        case .dat(let record):
            return record.value(at: index)
        }
    }

    /// The value of the field called `name`, as `TraceEvent.fields[name]`.
    public func value(named name: String) -> FieldValue? {
        switch storage {
        case .event(let built): return built.event.fields[name]
        case .dat(let record): return record.fieldIndex(name).flatMap { record.value(at: $0) }
        }
    }

    /// The event with all its (selected) fields, as `TraceReader.forEach` gives it.
    public func event() -> TraceEvent {
        switch storage {
        case .event(let built): return built.event
        case .dat(let record): return record.event(timestamp: timestamp, cpu: cpu, formatID: formatID)
        }
    }
}

/// What `TraceReader.forEachView` streams: event views and the gaps between them.
public enum TraceRecordView {
    case event(EventView)
    case lost(LostEvents)

    /// The view of a record already built.
    public init(_ record: TraceRecord) {
        switch record {
        case .event(let event): self = .event(EventView(event))
        case .lost(let lost): self = .lost(lost)
        }
    }
}
