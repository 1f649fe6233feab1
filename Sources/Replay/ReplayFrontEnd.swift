import KernelEvents
import TraceIO

/// One event as the replay consumes it: where it sits in the stream, who ran
/// it, and its typed form.
struct PreparedEvent: Sendable {
    var stamp: Stamp
    var event: KernelEvent
}

/// The part of a replay that needs only the event itself: decoding into
/// typed events, the trace's reliability (lost windows, clock), task names.
/// It can run on its own thread ahead of the model (`ReplayPipeline`).
struct ReplayFrontEnd: Sendable {
    var decoder = KernelEventDecoder()
    var names: EventNameCache
    var reliability: TraceReliability
    var comms: [Int32: String] = [:]
    private var lastPid: Int32 = -1
    var events = 0
    /// The time span read, for the share of it lost windows cover.
    var coverage = LostCoverage()

    init(reliability: TraceReliability, names: EventNames) {
        self.reliability = reliability
        self.names = EventNameCache(names)
    }

    /// The typed event of `record`; nil for a lost-events record, which only
    /// the reliability needs.
    mutating func prepare(_ record: TraceRecord) -> PreparedEvent? {
        switch record {
        case .lost(let lost):
            reliability.observe(lost)
            return nil
        case .event(let event):
            coverage.observe(timestamp: event.timestamp)
            let name = names.number(event)
            let stamp = Stamp(index: events, timestamp: event.timestamp, cpu: event.cpu, pid: event.pid, name: name)
            events += 1
            reliability.observe(cpu: event.cpu, timestamp: event.timestamp)
            if event.pid != lastPid {
                // Consecutive events mostly come from one task, whose name
                // is known once it is not `<...>`.
                if comms[event.pid] == nil || comms[event.pid] == "<...>" { comms[event.pid] = event.comm }
                lastPid = comms[event.pid] == "<...>" ? -1 : event.pid
            }
            return PreparedEvent(stamp: stamp, event: Self.slim(decoder.decode(event), name))
        }
    }

    /// What the model's thread needs of an event: the device of
    /// `ext4_sync_fs` and nothing else of the untyped ones; of a work item,
    /// whether it is ext4's conversion work. The rest stays on the reading
    /// thread, so no shared string crosses (see `EventName`).
    static func slim(_ event: KernelEvent, _ name: EventName) -> KernelEvent {
        switch event {
        case .other(let raw):
            var fields = EventFields()
            if name == .ext4SyncFs, let dev = raw.fields["dev"] { fields.storage = [EventField("dev", dev)] }
            return .other(TraceEvent(timestamp: raw.timestamp, cpu: raw.cpu, pid: raw.pid, comm: "", name: "", fields: fields))
        case .workqueue(let work):
            var key = work.key
            key.function = key.function.hasPrefix(conversionWork) ? conversionWork : ""
            switch work {
            case .queue: return .workqueue(.queue(key, workqueue: nil))
            case .activate: return .workqueue(.activate(key))
            case .executeStart: return .workqueue(.executeStart(key))
            case .executeEnd: return .workqueue(.executeEnd(key))
            }
        case .syscall(.enter(.other, let args)):
            return .syscall(.enter(.other(""), arguments: args))
        case .syscall(.exit(.other, let ret)):
            return .syscall(.exit(.other(""), ret: ret))
        default:
            return event
        }
    }

    /// The fields the replay reads: the typed events' and `ext4_sync_fs`'s device.
    static let fields: FieldSelection = {
        var map = KernelEventDecoder.fieldsByEvent
        map.exact["ext4_sync_fs"] = ["dev"]
        return .perEvent(map)
    }()

    /// The functions of ext4's conversion work items (`ext4_end_io_work`,
    /// `ext4_end_io_rsv_work`, `ext4_end_io_unrsv_work` …).
    static let conversionWork = "ext4_end_io"
}
