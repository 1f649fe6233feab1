import KernelEvents
import TraceIO

/// What `stats` reports about the event graph — objects, edges per kind,
/// unlinked events, geometries — counted as the events stream through the
/// `GraphStream`, without keeping them: its memory follows the stream's live
/// objects and the number of tasks, not the length of the trace.
/// `EventGraph.summary` gives the same figures for a graph built whole.
public struct GraphSummaryCounter: Sendable {
    var decoder = KernelEventDecoder()
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
        stream = GraphStream()
    }

    /// A counter for a trace whose file says it lost events (see `GraphStream.init(metadata:)`).
    public init(metadata: TraceMetadata) {
        stream = GraphStream(metadata: metadata)
    }

    /// Adds one record of the stream, in the reader's order.
    public mutating func add(view record: TraceRecordView) {
        switch record {
        case .event(let view): add(view)
        case .lost(let lost): stream.lost(lost)
        }
    }

    /// The same for a record already built.
    public mutating func add(_ record: TraceRecord) {
        switch record {
        case .event(let event): add(EventView(event))
        case .lost(let lost): stream.lost(lost)
        }
    }

    public mutating func add(_ view: EventView) {
        // The whole graph numbers nodes in 32 bits and stops there; so does the count.
        guard events < Int(Int32.max) else {
            diagnostics.warn(view.name, "more than 2^31 events: the rest of the trace is not in the graph")
            return
        }
        let stamp = StreamStamp(index: events, timestamp: view.timestamp, cpu: view.cpu, pid: view.pid)
        events += 1
        let chain = ChainTable.key(pid: view.pid, cpu: view.cpu)
        if chain != lastChain {
            chains.insert(chain)
            lastChain = chain
        }
        _ = stream.add(stamp, decoder.decodeTyped(view))
        for e in stream.takeEdges() { edgeCounts[Int(e.kind.rawValue)] += 1 }
    }

    /// The summary of everything added; call once, after the last record.
    public mutating func finish() -> GraphSummary {
        let summary = stream.finish()
        var diagnostics = self.diagnostics
        for d in decoder.diagnostics.entries + summary.diagnostics {
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
