import KernelEvents
import TraceIO

/// What `stats` reports about the event graph — objects, edges per kind,
/// unlinked events, geometries — counted as the events stream through the
/// `GraphStream`, without keeping them: its memory follows the stream's live
/// objects and the number of tasks, not the length of the trace.
/// `EventGraph.summary` gives the same figures for a graph built whole.
public struct GraphSummaryCounter: Sendable {
    var decoding = GraphDecoding(names: .none)
    var stream: GraphStream
    var events = 0
    /// Explicit edges per `EdgeKind.rawValue`.
    var edgeCounts = [Int](repeating: 0, count: 256)
    /// The task chains seen (pid, or the idle task of a CPU): program order
    /// links consecutive events of one, so it has one edge fewer than events.
    var chains: Set<Int64> = []
    var lastChain: Int64 = -1
    /// The counter's own warnings, before the decoder's and the stream's (as the builder orders them).
    var diagnostics = DiagnosticLog()

    public init() {
        stream = GraphStream(keepsUnlinked: false)
    }

    /// A counter for a trace whose file says it lost events (see `GraphStream.init(metadata:)`).
    public init(metadata: TraceMetadata) {
        stream = GraphStream(keepsUnlinked: false, metadata: metadata)
    }

    /// Adds one record of the stream, in the reader's order.
    public mutating func add(view record: TraceRecordView) {
        if let input = decoding.transform(record) { add(input: input) }
    }

    /// The same for a record already built.
    public mutating func add(_ record: TraceRecord) {
        add(view: TraceRecordView(record))
    }

    /// Adds one record the reading thread typed (`GraphDecoding`).
    public mutating func add(input: GraphInput) {
        switch input {
        case .lost(let lost): stream.lost(lost)
        case .event(let event): add(event)
        }
    }

    mutating func add(_ event: GraphInputEvent) {
        // The whole graph numbers nodes in 32 bits and stops there; so does the count.
        guard events < Int(Int32.max) else {
            diagnostics.warn(event.name, "more than 2^31 events: the rest of the trace is not in the graph")
            return
        }
        events += 1
        let chain = ChainTable.key(pid: event.stamp.pid, cpu: event.stamp.cpu)
        if chain != lastChain {
            chains.insert(chain)
            lastChain = chain
        }
        _ = stream.add(event.stamp, event.typed)
        for e in stream.edgesFound { edgeCounts[Int(e.kind.rawValue)] += 1 }
        stream.forgetEdges()
    }

    /// Counts a whole trace in one ordered pass on two threads: reading,
    /// typing and the per-event statistics (`ViewStatistics`) on one, the
    /// graph's binding on the calling one (`RecordPipeline`).
    public static func collect(from reader: some TraceReader) throws -> (TraceStatistics, GraphSummary) {
        var counter = GraphSummaryCounter(metadata: reader.metadata)
        let fields = KernelEventDecoder.fieldsUsed.union(TraceEvent.deviceFieldNames).union(TraceEvent.inodeFieldNames)
        let reading = try RecordPipeline.run(reader, options: ReadOptions(fields: .named(fields), keepRawText: false),
                                             transform: CountingDecoding()) { counter.add(input: $0) }
        counter.decoding = reading.graph
        return (reading.counted.finish(), counter.finish())
    }

    /// The reading thread's work for `collect`.
    struct CountingDecoding: RecordTransform {
        var counted = ViewStatistics()
        var graph = GraphDecoding(names: .none)

        mutating func transform(_ record: TraceRecordView) -> GraphInput? {
            counted.add(record)
            return graph.transform(record)
        }
    }

    /// The summary of everything added; call once, after the last record.
    public mutating func finish() -> GraphSummary {
        let summary = stream.finish()
        var diagnostics = self.diagnostics
        for d in decoding.decoder.diagnostics.entries + summary.diagnostics {
            for _ in 0..<d.count { diagnostics.warn(d.event, d.message) }
        }
        var edges: [EdgeKind: Int] = [:]
        for k in EdgeKind.allCases { edges[k] = edgeCounts[Int(k.rawValue)] }
        edges[.programOrder] = events - chains.count
        return GraphSummary(events: events, objects: summary.objects, edges: edges,
                            unlinked: summary.unlinkedCounts, geometries: summary.geometries,
                            diagnostics: diagnostics.entries, bytes: 0)
    }
}
