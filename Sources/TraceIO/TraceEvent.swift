/// One trace event, the same whatever file it was read from.
public struct TraceEvent: Sendable {
    /// Timestamp in nanoseconds of the trace clock. Text traces print
    /// microseconds (rounded by the kernel), so their timestamps are multiples
    /// of 1000 and `timestampResolution` is 1000.
    public var timestamp: UInt64
    public var cpu: Int
    public var pid: Int32
    /// Task name; `<...>` when the kernel had not cached it.
    public var comm: String
    /// The tracepoint name as in the format files (`sys_enter_fsync`, not `sys_fsync`).
    public var name: String
    /// The event's subsystem (`ext4`, `block`, …) where the source says it.
    public var system: String?
    /// Fields by name with typed values.
    public var fields: EventFields
    /// The printed fields, as the source printed them, for events whose fields
    /// a text reader does not decode (and, in text traces, for every event).
    public var rawText: String?
    /// 1 for nanosecond sources, 1000 for microsecond text.
    public var timestampResolution: UInt64
    /// A number the reader gives every event of one format (the trace.dat
    /// event id; the text reader numbers names as it meets them), -1 when
    /// it has none. Only a hint within one pass over one reader: consumers
    /// cache per-format work by it (decoders, name tables) and must still
    /// check `name`, since another reader's numbers mean other formats.
    public var formatID: Int32

    public init(
        timestamp: UInt64, cpu: Int, pid: Int32, comm: String, name: String,
        system: String? = nil, fields: EventFields = EventFields(), rawText: String? = nil,
        timestampResolution: UInt64 = 1, formatID: Int32 = -1
    ) {
        self.timestamp = timestamp
        self.cpu = cpu
        self.pid = pid
        self.comm = comm
        self.name = name
        self.system = system
        self.fields = fields
        self.rawText = rawText
        self.timestampResolution = timestampResolution
        self.formatID = formatID
    }
}

/// Events the ring buffer dropped: a `[LOST N EVENTS]` line in text, a
/// missed-events mark on a trace.dat record.
public struct LostEvents: Hashable, Sendable {
    public var cpu: Int
    /// How many were lost, when the source knows (`nil`: an unknown number).
    public var count: UInt64?
    /// The time of the first event after the loss, when known: the loss lies
    /// between the previous event of that CPU and this timestamp.
    public var timestamp: UInt64?

    public init(cpu: Int, count: UInt64?, timestamp: UInt64?) {
        self.cpu = cpu
        self.count = count
        self.timestamp = timestamp
    }
}

/// What a reader streams: events and the gaps between them.
public enum TraceRecord: Sendable {
    case event(TraceEvent)
    case lost(LostEvents)
}
