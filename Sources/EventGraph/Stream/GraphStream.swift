import KernelEvents
import TraceIO

/// The event graph as a stream: each typed event goes in, in the reader's
/// order, and comes out with what the graph bound at it (`EventLinks`: the
/// inode object it names, the bio, work item or syscall it belongs to) and
/// the happens-before edges found there (`takeEdges`). This is the one place
/// where wbreplay identifies and binds kernel objects; the replay, `stats`,
/// `why` and the whole-graph builder all read it.
///
/// It keeps only what can still be linked — bios in flight, queued and
/// running work items, open syscalls and spans, extents awaiting their bio
/// or conversion, live inodes — and forgets the rest, so its memory follows
/// the live objects, not the length of the trace. With `keepHistory` it also
/// keeps every work item and conversion link for the whole-graph view.
public struct GraphStream: Sendable {
    /// Keep the work items and conversion links of the whole trace (`EventGraph`).
    public let keepHistory: Bool
    /// Count the distinct inodes and folios of the whole trace (the summary
    /// `stats` prints): a set of every one seen, which grows with the trace
    /// and costs a hash per event. Consumers that print no summary — the
    /// replay's binder, `why`'s passes, an excerpt — leave it off, and their
    /// summary has no inode or folio count.
    public let countsObjects: Bool
    /// Keep the first `UnlinkedLog.keptLimit` unlinked events with their
    /// details (`EventGraph.unlinked`); off, only their counts (what
    /// `stats` prints). Each kept event formats a string, and on a trace with
    /// lost events they are tens of thousands.
    public var keepsUnlinked: Bool { unlinked.keepsEvents }

    var edges: [Edge] = []
    var unlinked: UnlinkedLog
    var diagnostics = DiagnosticLog()
    var generations = InodeGenerations()
    var seenInodes: Set<InodeID> = []
    var seenFolios: Set<FolioKey> = []
    /// The inode `resolve` named last: runs of events name one inode, and
    /// its two hash lookups per event showed in profiles.
    var lastResolved: InodeID?

    // Losses: a lost-events record lies between the previous event of its
    // CPU and the next one, so it is charged to the next index.
    var nextIndex = 0
    var firstLostIndex = Int.max
    var lastLostIndex = -1
    /// The file says events were dropped or overwritten (metadata), so any
    /// event may lack its partner.
    public var lossBeforeStart = false

    var syscalls = SyscallState()
    var spans = SpanState()
    var work = WorkState()
    var block = BlockState()
    var extents = ExtentState()
    var geometry = GeometryEstimator()
    var commits: [CommitKey: Int] = [:]
    var transactions = 0
    var wakeups: [Int32: Int] = [:]
    var ioEnds = 0
    var fsDevices: Set<DeviceNumber> = []
    /// The device of the last ext4 event, in `fsDevices` (nearly every
    /// ext4 event names the same one: one compare instead of a hash).
    var lastExt4Device: DeviceNumber?
    var bdiDevices: [String: (dev: DeviceNumber?, found: Bool, at: Int)] = [:]
    /// The last bdi whose file system `bdiDevices` has for good: nearly
    /// every writeback event names it, and a string compare spares hashing it.
    var lastFoundBdi: (name: String, dev: DeviceNumber?)?
    /// The last completion event per CPU, for the work its irq handler queues.
    var lastCompletionByCPU = PerCPU<LastCompletion>()

    // The whole trace's objects, with `keepHistory`.
    var workHistory: [WorkItem] = []
    var conversionHistory: [ConversionLink] = []

    public init(keepHistory: Bool = false, countsObjects: Bool = true, keepsUnlinked: Bool = true) {
        self.keepHistory = keepHistory
        self.countsObjects = countsObjects
        unlinked = UnlinkedLog(keepsEvents: keepsUnlinked)
    }

    /// A stream for a trace whose file says it lost events (per-CPU stats, or
    /// a text header whose entries-written exceed entries-in-buffer): its
    /// unlinked events may be explained by that loss.
    public init(keepHistory: Bool = false, countsObjects: Bool = true, keepsUnlinked: Bool = true,
                metadata: TraceMetadata) {
        self.init(keepHistory: keepHistory, countsObjects: countsObjects, keepsUnlinked: keepsUnlinked)
        let overwritten = (metadata.entriesWritten ?? 0) > (metadata.entriesInBuffer ?? metadata.entriesWritten ?? 0)
        lossBeforeStart = metadata.lostByCPU.values.contains { $0 > 0 } || overwritten
    }

    /// Events were lost on a CPU before the next event.
    public mutating func lost(_ lost: LostEvents) {
        if firstLostIndex == .max { firstLostIndex = nextIndex }
        lastLostIndex = nextIndex
    }

    /// Binds one event; `stamp.index` must grow by one per event. `event`
    /// nil: an event the graph does not type (it still counts in program order
    /// for the consumers, which keep the chains).
    public mutating func add(_ stamp: StreamStamp, _ event: KernelEvent?) -> EventLinks {
        nextIndex = stamp.index + 1
        guard let event else {
            lastCompletionByCPU[stamp.cpu] = nil
            return EventLinks()
        }
        if !Self.continuesIrq(event) { lastCompletionByCPU[stamp.cpu] = nil }
        switch event {
        case .ext4(let e): return handleExt4(e, stamp)
        case .writeback(let e): return handleWriteback(e, stamp)
        case .filemap(let e): return handleFilemap(e, stamp)
        case .block(let e): return handleBlock(e, stamp)
        case .workqueue(let e): return handleWork(e, stamp)
        case .jbd2(let e): return handleJBD2(e, stamp)
        case .sched(let e): return handleSched(e, stamp)
        case .syscall(let e): return handleSyscall(e, stamp)
        case .other: return EventLinks()
        }
    }

    /// Events an irq handler traces after a bio completion and before it
    /// queues the conversion work (`blk_update_request` → `bio_endio` →
    /// `ext4_end_bio`): more completions of the same batch, the end of a
    /// folio's or inode's writeback, the queueing itself. Another work item
    /// queued in between (a direct-I/O completion's, the block layer's) is
    /// not part of that path.
    static func continuesIrq(_ event: KernelEvent) -> Bool {
        switch event {
        case .block(.requestComplete), .block(.bioComplete): return true
        case .writeback(.clearInodeWriteback), .writeback(.markInodeWriteback): return true
        case .workqueue(.queue(let key, _)), .workqueue(.activate(let key)): return WorkState.isConversion(key)
        default: return false
        }
    }

    /// The edges found at the last event: into it, but for the edge from a
    /// completion to the queueing of the conversion work it caused, found
    /// when that work converts (`linkQueueingCompletion`), which points back.
    public mutating func takeEdges() -> [Edge] {
        guard !edges.isEmpty else { return [] }
        defer { edges.removeAll(keepingCapacity: true) }
        return edges
    }

    /// The same edges read in place, for this module's consumers, which then
    /// call `forgetEdges`: handed over as an array, each event with edges
    /// freed one and allocated the next (a twentieth of `graph --around`'s
    /// binding thread).
    var edgesFound: [Edge] { edges }

    mutating func forgetEdges() {
        if !edges.isEmpty { edges.removeAll(keepingCapacity: true) }
    }

    mutating func link(_ from: Int, _ to: Int, _ kind: EdgeKind) {
        edges.append(Edge(from: from, to: to, kind: kind))
    }

    // MARK: Objects

    /// The inode object `key` names now, counted once.
    mutating func resolve(_ key: InodeKey) -> InodeID {
        if let last = lastResolved, last.key == key { return last }
        let id = generations.resolve(key)
        if countsObjects { seenInodes.insert(id) }
        lastResolved = id
        return id
    }

    /// The reason an event at `index` lacks a partner that should precede it,
    /// given whether the object was seen before (`firstSighting`).
    func reason(_ index: Int, firstSighting: Bool) -> UnlinkedReason {
        if lossBeforeStart || firstLostIndex <= index { return .lostEvents }
        return firstSighting ? .traceStart : .unexplained
    }

    mutating func addUnlinked(_ kind: UnlinkedKind, _ index: Int, firstSighting: Bool, _ detail: @autoclosure () -> String) {
        unlinked.add(UnlinkedEvent(kind: kind, node: index, reason: reason(index, firstSighting: firstSighting), detail: ""),
                     detail: detail)
    }

    // MARK: The end

    /// What the stream found over the whole trace; call once, after the last event.
    public mutating func finish() -> StreamSummary {
        reportOpenSubmissions()
        let geometries = geometry.all()
        if !fsDevices.isEmpty, geometries.isEmpty, block.biosQueued > 0 {
            diagnostics.warn("ext4", "no extent could be matched with a bio: block size and partition start unknown, extents not linked to bios")
        }
        var objects: [ObjectKind: Int] = [:]
        if countsObjects {
            objects[.inode] = seenInodes.count
            objects[.folio] = seenFolios.count
        }
        objects[.ioEnd] = ioEnds
        objects[.extent] = extents.submissionCount
        objects[.conversion] = extents.conversionCount
        objects[.bio] = block.biosQueued
        objects[.request] = block.requestCount
        objects[.flush] = block.flushCount
        objects[.workItem] = work.itemCount
        objects[.syscall] = syscalls.count
        objects[.transaction] = transactions
        return StreamSummary(objects: objects, unlinked: unlinked.sorted, unlinkedCounts: unlinked.counts,
                             geometries: geometries, diagnostics: diagnostics.entries,
                             workItems: workHistory, conversions: conversionHistory, lossBeforeStart: lossBeforeStart)
    }

    /// The geometry of a file system as the trace has shown it so far.
    public mutating func currentGeometry(of fs: DeviceNumber) -> DeviceGeometry? { geometry.geometry(of: fs) }
}

/// The completion an irq handler just traced on a CPU, and the inodes whose bios it finished.
struct LastCompletion {
    var index: Int
    var owners: [InodeID]
}

/// What a whole stream found.
public struct StreamSummary: Sendable {
    public var objects: [ObjectKind: Int]
    /// Unlinked events in stream order (the first `UnlinkedLog.keptLimit` of them).
    public var unlinked: [UnlinkedEvent]
    /// Counts of every unlinked event, kept or not.
    public var unlinkedCounts: [UnlinkedKind: UnlinkedCount]
    public var geometries: [DeviceGeometry]
    public var diagnostics: [Diagnostic]
    /// With `keepHistory` only.
    public var workItems: [WorkItem]
    public var conversions: [ConversionLink]
    public var lossBeforeStart: Bool
}

/// Unlinked events: every one counted, the first ones kept with their detail.
struct UnlinkedLog: Sendable {
    static let keptLimit = 100_000
    /// Off: only counted (see `GraphStream.keepsUnlinked`).
    let keepsEvents: Bool
    private(set) var kept: [UnlinkedEvent] = []
    private(set) var counts: [UnlinkedKind: UnlinkedCount] = {
        var c: [UnlinkedKind: UnlinkedCount] = [:]
        for k in UnlinkedKind.allCases { c[k] = UnlinkedCount() }
        return c
    }()

    mutating func add(_ event: UnlinkedEvent, detail: () -> String) {
        if event.isExplained { counts[event.kind]!.explained += 1 } else { counts[event.kind]!.unexplained += 1 }
        counts[event.kind]!.byReason[event.reason, default: 0] += 1
        guard keepsEvents, kept.count < Self.keptLimit else { return }
        var e = event
        e.detail = detail()
        kept.append(e)
    }

    var sorted: [UnlinkedEvent] { kept.sorted { $0.node < $1.node } }
}
