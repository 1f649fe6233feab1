import EventGraph
import KernelEvents
import TraceIO

/// One event as the replay consumes it: where it sits in the stream, who ran
/// it, its typed form, what the event graph bound at it, and the
/// happens-before edges the graph found there.
struct PreparedEvent: Sendable {
    var stamp: Stamp
    var event: ReplayEvent
    var links = ReplayLinks()
    var edges: [Edge] = []
    /// The last lost-events record between the previous event and this one.
    var lostBefore: LostEvents?
}

/// What the event graph bound at an event, as the model's thread reads it:
/// no strings (see `EventName`), only numbers and inode objects.
struct ReplayLinks: Sendable {
    /// The inode object the event names (generation resolved, a bdi
    /// resolved to its file system); nil for events about none.
    var inode: InodeID?
    var binding: ReplayBinding = .none
}

/// `StreamBinding` without the work items' function names.
enum ReplayBinding: Sendable {
    case none
    case bioQueued(BoundBio)
    case bioIssued([BoundBio])
    case bioCompleted([CompletedBio])
    /// The work item, its owner, and its work struct's address.
    case workQueued(WorkID, WorkOwner, UInt64)
    case workStarted(WorkID, WorkOwner, UInt64)
    case workEnded(WorkID, WorkOwner)
    case workOwnerLearned(WorkID, WorkOwner)
    case syscallReturned(enter: Int)

    init(_ b: StreamBinding) {
        switch b {
        case .none: self = .none
        case .bioQueued(let bio): self = .bioQueued(bio)
        case .bioIssued(let bios): self = .bioIssued(bios)
        case .bioCompleted(let done): self = .bioCompleted(done)
        case .workQueued(let w): self = .workQueued(w.id, w.owner, w.key.work)
        case .workStarted(let w): self = .workStarted(w.id, w.owner, w.key.work)
        case .workEnded(let w): self = .workEnded(w.id, w.owner)
        case .workOwnerLearned(let w): self = .workOwnerLearned(w.id, w.owner)
        case .syscallReturned(let enter): self = .syscallReturned(enter: enter)
        }
    }
}

/// A `KernelEvent` as the model's thread gets it: the typed events as they
/// are, and of an untyped one only what the replay reads. Without a
/// `TraceEvent` in it a prepared event is a quarter smaller, and both threads
/// copy every one.
enum ReplayEvent: Sendable {
    case ext4(Ext4Event)
    case writeback(WritebackEvent)
    case filemap(FilemapEvent)
    case block(BlockEvent)
    case workqueue(WorkqueueEvent)
    case jbd2(JBD2Event)
    case sched(SchedEvent)
    case syscall(SyscallEvent)
    /// An event the replay does not type; of `ext4_sync_fs`, its device.
    case other(syncDevice: DeviceNumber?)
}

/// The part of a replay that needs only the events themselves: decoding into
/// typed events, the trace's reliability (lost windows, clock), task names.
/// It runs on its own thread ahead of the model (`ReplayPipeline`); the event
/// graph's binding (`ReplayBinder`) runs on the model's thread, which had the
/// lighter share of the work.
struct ReplayFrontEnd: Sendable {
    var decoder = KernelEventDecoder()
    var names: EventNameCache
    var reliability: TraceReliability
    var comms: [Int32: String] = [:]
    private var lastPid: Int32 = -1
    var events = 0
    /// The time span read, for the share of it lost windows cover.
    var coverage = LostCoverage()
    /// A lost-events record came after the last event decoded: the next
    /// event carries it to the graph. Set at the end: lost after the last event.
    private(set) var pendingLost: LostEvents?

    init(reliability: TraceReliability, names: EventNames) {
        self.reliability = reliability
        self.names = EventNameCache(names)
    }

    /// The decoded event of `record`; nil for a lost-events record, which
    /// the reliability takes now and the graph with the next event.
    mutating func decode(_ record: TraceRecord) -> DecodedEvent? {
        decode(TraceRecordView(record))
    }

    /// The same for a reader's view of a record.
    mutating func decode(_ record: TraceRecordView) -> DecodedEvent? {
        switch record {
        case .lost(let lost):
            reliability.observe(lost)
            pendingLost = lost
            return nil
        case .event(let view):
            return decode(view)
        }
    }

    /// The decoded event of `view`: of an event the replay does not type,
    /// only the header (and `ext4_sync_fs`'s device) is read.
    mutating func decode(_ view: EventView) -> DecodedEvent {
        coverage.observe(timestamp: view.timestamp)
        let name = names.number(view)
        let stamp = Stamp(index: events, timestamp: view.timestamp, cpu: view.cpu, pid: view.pid, name: name)
        events += 1
        reliability.observe(cpu: view.cpu, timestamp: view.timestamp)
        if view.pid != lastPid {
            // Consecutive events mostly come from one task, whose name
            // is known once it is not `<...>`.
            var comm = comms[view.pid]
            if comm == nil || comm == "<...>" {
                comm = view.comm
                comms[view.pid] = comm
            }
            lastPid = comm == "<...>" ? -1 : view.pid
        }
        let lostBefore = pendingLost
        pendingLost = nil
        guard let typed = decoder.decodeTyped(view) else {
            return DecodedEvent(stamp: stamp, typed: nil, untyped: Self.untyped(view, name), lostBefore: lostBefore)
        }
        return DecodedEvent(stamp: stamp, typed: typed, untyped: nil, lostBefore: lostBefore)
    }

    /// What the model's thread needs of an untyped event: the device of
    /// `ext4_sync_fs` and nothing else.
    static func untyped(_ view: EventView, _ name: EventName) -> ReplayEvent {
        .other(syncDevice: name == .ext4SyncFs ? view.value(named: "dev")?.device : nil)
    }

    /// What the model's thread needs of an event: the device of
    /// `ext4_sync_fs` and nothing else of the untyped ones; of a work item,
    /// whether it is ext4's conversion work. The rest stays on the reading
    /// thread, so no shared string crosses (see `EventName`).
    static func slim(_ event: KernelEvent, _ name: EventName) -> ReplayEvent {
        switch event {
        case .ext4(let e): return .ext4(e)
        case .writeback(let e): return .writeback(e)
        case .filemap(let e): return .filemap(e)
        case .block(let e): return .block(e)
        case .jbd2(let e): return .jbd2(e)
        case .sched(let e): return .sched(e)
        case .other(let raw):
            return untyped(EventView(raw), name)
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
        case .syscall(let e):
            return .syscall(e)
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
