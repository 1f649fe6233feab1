import KernelEvents
import TraceIO

/// Builds the `EventGraph` of a trace in one pass: the `GraphStream`
/// binds each event and finds its edges; this keeps every node and edge
/// (a few tens of bytes an event) for queries over the whole trace
/// (`graph --ino`, tests), or only those of a range of events (an excerpt,
/// see `ExcerptBounds`: `why`, `graph --around`). Commands that stream
/// (`check`, `stats`) use `GraphStream`, `HappensBeforeWindow` and
/// `GraphSummaryCounter` instead.
public struct EventGraphBuilder {
    /// Typing, on the caller's thread or a reading thread's (`RecordPipeline`).
    var decoding = GraphDecoding(names: .all)
    public private(set) var stream: GraphStream
    var nodes = NodeColumns()
    var edges = EdgeColumns()

    // Interned tables.
    var nameTable: [String] = []
    var nameCodes: [String: UInt16] = [:]
    var inodeTable: [InodeID] = []
    var inodeCodes: [InodeID: Int32] = [:]
    var comms: [Int32: String] = [:]

    // Task chains: pid, or (0, cpu) for the per-CPU idle tasks.
    var chains = ChainTable()
    var lostMarkers: [LostEvents] = []
    var diagnostics = DiagnosticLog()
    /// Every event added, kept in the graph or not.
    var streamIndex = 0
    /// With a range: what the excerpt needs to know of the events outside it.
    var outside: ExcerptTracker?

    public init(expectedEvents: Int = 0) {
        stream = GraphStream(keepHistory: true)
        if expectedEvents > 0 { nodes.reserve(expectedEvents) }
    }

    /// A builder that keeps only the events with stream indices in `range`
    /// (every event still goes through the stream, so their edges and
    /// objects are those of the whole graph) and notes where the excerpt's
    /// knowledge stops (`ExcerptBounds`).
    public init(range: Range<Int>, metadata: TraceMetadata) {
        stream = GraphStream(keepHistory: false, countsObjects: false, keepsUnlinked: false, metadata: metadata)
        outside = ExcerptTracker(range: range)
        decoding = GraphDecoding(names: .within([range]))
        // Reserved, not grown by doubling (each copied the columns and
        // faulted them in again); what a short trace leaves unused is never touched.
        nodes.reserve(min(range.count, 1 << 20))
    }

    /// A builder for a trace whose file says it lost events (per-CPU stats, or a
    /// text header whose entries-written exceed entries-in-buffer): its unlinked
    /// events may be explained by that loss.
    public init(expectedEvents: Int = 0, metadata: TraceMetadata) {
        self.init(expectedEvents: expectedEvents)
        stream = GraphStream(keepHistory: true, metadata: metadata)
    }

    /// The file says events were dropped or overwritten.
    public var lossBeforeStart: Bool {
        get { stream.lossBeforeStart }
        set { stream.lossBeforeStart = newValue }
    }

    /// Adds one record of the stream, in the reader's order.
    public mutating func add(_ record: TraceRecord) {
        switch record {
        case .event(let e): add(e)
        case .lost(let lost):
            lostMarkers.append(lost)
            stream.lost(lost)
        }
    }

    /// Adds one record as a reader's view (`TraceReader.forEachView`): of an
    /// event outside an excerpt's range only the typed event is read.
    public mutating func add(view record: TraceRecordView) {
        if let input = decoding.transform(record) { add(input: input) }
    }

    /// Adds one record typed by this builder's `decoding`, maybe on another
    /// thread (`EventGraph.build(from:)`).
    public mutating func add(input: GraphInput) {
        switch input {
        case .lost(let lost):
            lostMarkers.append(lost)
            stream.lost(lost)
        case .event(let event):
            guard nodes.count < Int(Int32.max) else {
                diagnostics.warn(event.name, "more than 2^31 events: the rest of the trace is not in the graph")
                return
            }
            if let comm = event.comm { comms[event.stamp.pid] = comm }
            if let outside, !outside.range.contains(event.stamp.index) {
                skip(event.stamp, event.typed)
            } else {
                // The decoding handed the task's name over at its first event (above).
                append(event.stamp, name: event.name, event.typed)
            }
        }
    }

    /// An event outside the excerpt: through the stream, its edges noted, not kept.
    mutating func skip(_ stamp: StreamStamp, _ event: KernelEvent?) {
        _ = stream.add(stamp, event)
        streamIndex = stamp.index + 1
        _ = outside!.event(stamp)
        takeExcerptEdges()
    }

    mutating func takeExcerptEdges() {
        for e in stream.edgesFound {
            if let local = outside!.edge(e) { edges.append(Int32(local.from), Int32(local.to), e.kind) }
        }
        stream.forgetEdges()
    }

    public mutating func add(_ event: TraceEvent) {
        // Node indices are 32-bit to halve the graph's memory.
        guard nodes.count < Int(Int32.max) else {
            diagnostics.warn(event.name, "more than 2^31 events: the rest of the trace is not in the graph")
            return
        }
        let typed: KernelEvent?
        switch decoding.decoder.decode(event) {
        case .other: typed = nil
        case let e: typed = e
        }
        add(StreamStamp(index: streamIndex, timestamp: event.timestamp, cpu: event.cpu, pid: event.pid),
            name: event.name, comm: event.comm, typed)
    }

    /// Adds an event already typed (`name` and `comm` for the graph's output).
    public mutating func add(_ stamp: StreamStamp, name: String, comm: String, _ event: KernelEvent?) {
        if comms[stamp.pid] == nil || comms[stamp.pid] == "<...>" { comms[stamp.pid] = comm }
        append(stamp, name: name, event)
    }

    /// Binds one event and keeps it, its task's name already in `comms`
    /// (two lookups and a string compare per event were a twentieth of
    /// `graph --around`'s binding thread).
    mutating func append(_ stamp: StreamStamp, name: String, _ event: KernelEvent?) {
        let links = stream.add(stamp, event)
        streamIndex = stamp.index + 1
        if outside != nil {
            let kept = outside!.event(stamp)
            takeExcerptEdges()
            guard kept else { return }
        }
        let (chain, position) = chains.append(pid: stamp.pid, cpu: stamp.cpu)
        nodes.append(stamp, name: nameCode(name), inode: links.inode.map { inodeCode($0) } ?? -1, detail: links.detail,
                     chain: chain, position: position)
        if outside != nil {
            if position == 0 { outside!.chainStarted(chain, stamp) }
        } else {
            for e in stream.edgesFound { edges.append(Int32(e.from), Int32(e.to), e.kind) }
            stream.forgetEdges()
        }
    }

    mutating func nameCode(_ name: String) -> UInt16 {
        if let c = nameCodes[name] { return c }
        guard nameTable.count < Int(UInt16.max) else { return UInt16.max }
        let c = UInt16(nameTable.count)
        nameTable.append(name)
        nameCodes[name] = c
        return c
    }

    mutating func inodeCode(_ id: InodeID) -> Int32 {
        if let c = inodeCodes[id] { return c }
        let c = Int32(inodeTable.count)
        inodeTable.append(id)
        inodeCodes[id] = c
        return c
    }

    /// Freezes everything into an `EventGraph`.
    public consuming func finish() -> EventGraph {
        var summary = stream.finish()
        for d in decoding.decoder.diagnostics.entries { for _ in 0..<d.count { diagnostics.warn(d.event, d.message) } }
        for d in summary.diagnostics { for _ in 0..<d.count { diagnostics.warn(d.event, d.message) } }
        summary.diagnostics = diagnostics.entries
        let bounds = outside?.bounds(totalEvents: streamIndex, chainLengths: chains.lengths, nodeChains: nodes.chains,
                                     nodePositions: nodes.positions)
        return EventGraph(
            nodes: nodes, edges: edges, chainLengths: chains.lengths, chainPids: chains.pids,
            nameTable: nameTable, inodeTable: inodeTable, comms: comms, summary: summary, lostEvents: lostMarkers,
            base: outside?.range.lowerBound ?? 0, bounds: bounds)
    }
}

/// Task chains: one per pid, and one per CPU for the idle task (pid 0), with
/// the next position in each.
struct ChainTable: Sendable {
    private var codes: [Int64: Int32] = [:]
    private(set) var lengths: [Int32] = []
    private(set) var pids: [Int32] = []
    private var lastKey: Int64?
    private var lastChain: Int32 = 0

    /// The chain an event of `pid` on `cpu` belongs to: the task, or the CPU's idle task.
    static func key(pid: Int32, cpu: Int) -> Int64 {
        pid == 0 ? Int64(cpu) | (1 << 40) : Int64(pid)
    }

    /// The chain of an event of `pid` on `cpu` and its position there.
    mutating func append(pid: Int32, cpu: Int) -> (chain: Int32, position: Int32) {
        let key = Self.key(pid: pid, cpu: cpu)
        let chain: Int32
        if key == lastKey {
            // Runs of events come from one task: no hashing for them.
            chain = lastChain
        } else if let c = codes[key] {
            chain = c
        } else {
            chain = Int32(lengths.count)
            codes[key] = chain
            lengths.append(0)
            pids.append(pid)
        }
        lastKey = key
        lastChain = chain
        let position = lengths[Int(chain)]
        lengths[Int(chain)] += 1
        return (chain, position)
    }
}

/// Builds the graph of a whole trace from any reader.
extension EventGraph {
    public static func build(from reader: some TraceReader, expectedEvents: Int = 0) throws -> EventGraph {
        var builder = EventGraphBuilder(expectedEvents: expectedEvents, metadata: reader.metadata)
        return try builder.build(from: reader)
    }

    /// The excerpt of a trace's graph holding the events in `range` (see
    /// `ExcerptBounds`); its memory follows the range, not the trace.
    public static func build(from reader: some TraceReader, range: Range<Int>) throws -> EventGraph {
        var builder = EventGraphBuilder(range: range, metadata: reader.metadata)
        return try builder.build(from: reader)
    }

    /// Builds the graph of records already in memory (benchmarks, tests,
    /// filtered streams).
    public static func build(records: some Sequence<TraceRecord>, expectedEvents: Int = 0, lossBeforeStart: Bool = false) -> EventGraph {
        var builder = EventGraphBuilder(expectedEvents: expectedEvents)
        builder.lossBeforeStart = lossBeforeStart
        for r in records { builder.add(r) }
        return builder.finish()
    }
}

extension EventGraphBuilder {
    /// Reads the whole trace on two threads: reading and typing on one, the
    /// binding and the graph's columns on this one (`RecordPipeline`).
    mutating func build(from reader: some TraceReader) throws -> EventGraph {
        decoding = try RecordPipeline.run(reader, options: GraphDecoding.options, transform: decoding) {
            add(input: $0)
        }
        return finish()
    }
}
