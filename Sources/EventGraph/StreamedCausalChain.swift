import KernelEvents
import TraceIO

/// `EventGraph.causalChain` without the graph of the whole trace: passes over
/// the trace (`CausalChainPass`), each keeping only the events in windows
/// before the ones the search needs next — the target first, then the causes
/// that lay before the previous windows — until the chain is complete. Every
/// pass streams the trace through the `GraphStream` from its start, so each
/// kept event has every edge into it: the first to its end, the later ones
/// to the last event at which the first found an edge they need
/// (`PassHorizon`). Memory follows the windows, not the trace.
///
/// It answers the whole graph's chain exactly, or says it cannot
/// (`.needsWholeGraph`): when a chain cut at the limit is ordered by a
/// topological rank (the trace has edges whose cause carries a later
/// timestamp than its effect), or when a step's task anchor depends on an
/// edge whose ends lie further back than the pass's ring of task chains.
public enum StreamedCausalChain {
    public enum Answer {
        case chain(CausalChainReport)
        case needsWholeGraph(String)
        case outOfRange(events: Int)
    }

    /// Events kept before the target in the first pass, and before each
    /// needed event in later ones (the windows of one pass at most `keptLimit`).
    /// A later pass often needs one event: a task's previous anchor, which
    /// can lie a million events before the step that needs it, its own
    /// causes close behind it. One window of 2^20 events (about 60 MB kept)
    /// takes the search on where windows of 2^16 need a pass for each step
    /// or two: `why` of the middle event of a 9 M-event trace takes two
    /// passes with these windows, five with those.
    static let firstWindow = 1 << 18
    static let laterWindow = 1 << 20
    static let keptLimit = 1 << 20

    public static func find(to target: Int, limit: Int, causesPerKind: Int = 3,
                            open: () throws -> some TraceReader) throws -> (answer: Answer, passes: Int, eventsRead: Int) {
        try find(to: target, limit: limit, causesPerKind: causesPerKind, firstWindow: firstWindow,
                 laterWindow: laterWindow, ringCapacity: CausalChainPass.ringCapacity, open: open)
    }

    /// The same with other windows and ring (tests: many passes, a ring too short).
    static func find(to target: Int, limit: Int, causesPerKind: Int, firstWindow: Int, laterWindow: Int,
                     ringCapacity: Int, open: () throws -> some TraceReader) throws -> (answer: Answer, passes: Int, eventsRead: Int) {
        var windows = [max(0, target - firstWindow + 1)..<(target + 1)]
        var nodes: [Int: PassNode] = [:]
        var search = CausalChainSearch(target: target, limit: limit, causesPerKind: causesPerKind, rank: Int32(clamping: target))
        var passes = 0
        var whole: WholeTraceFacts?
        var eventsRead = 0
        while true {
            passes += 1
            let reader = try open()
            var pass = CausalChainPass(windows: windows, ringCapacity: ringCapacity, metadata: reader.metadata, whole: whole)
            _ = try RecordPipeline.run(reader, options: GraphDecoding.options, transform: pass.decoding) { pass.add(input: $0) }
            eventsRead += pass.events
            let facts = whole ?? pass.wholeTraceFacts
            whole = facts
            guard target < facts.events else { return (.outOfRange(events: facts.events), passes, eventsRead) }
            var source = PassCauses(nodes: nodes, pass: pass)
            let needed = search.run(&source)
            nodes = source.nodes
            if source.anchorUnknown {
                return (.needsWholeGraph("a step's task anchor depends on an edge found more than \(ringCapacity) events after its cause"), passes, eventsRead)
            }
            if needed.isEmpty {
                if search.truncated, facts.backwardEdges > 0 {
                    return (.needsWholeGraph("the chain stops at the limit and the trace has edges against the clock order"), passes, eventsRead)
                }
                return (.chain(CausalChainReport(chain: search.chain, nodes: nodes)), passes, eventsRead)
            }
            // Keep what the search holds (its steps and what waits); fetch what it needs.
            let held = Set(search.steps.map(\.node)).union(search.pending)
            nodes = nodes.filter { held.contains($0.key) }
            let each = max(1, min(laterWindow, keptLimit / needed.count))
            windows = merged(needed.map { max(0, $0 - each + 1)..<($0 + 1) })
        }
    }

    /// Sorted, disjoint ranges covering `ranges`.
    static func merged(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, r.lowerBound <= last.upperBound {
                out[out.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }
}

/// The events streamed passes kept, for `CausalChainSearch`.
struct PassCauses: CauseSource {
    /// The events the search read, from this pass or earlier ones.
    var nodes: [Int: PassNode]
    let pass: CausalChainPass
    /// A step's task anchor could not be told (see `CausalChainPass`).
    var anchorUnknown = false

    mutating func causeNode(_ i: Int) -> CauseNode? {
        if nodes[i] == nil, let n = pass.causeNode(i) { nodes[i] = n }
        guard let n = nodes[i] else { return nil }
        if n.anchorUnknown { anchorUnknown = true }
        return CauseNode(incoming: n.incoming, chain: n.chain, position: n.position, previousAnchor: n.anchor)
    }

    func chain(of i: Int) -> Int32? {
        if let n = nodes[i] { return n.chain }
        if let k = pass.keptSlot(i) { return pass.kept.nodes.chains[k] }
        // The chain of a cause, as the ring knew it when the edge was found.
        for n in nodes.values {
            if let k = n.incoming.firstIndex(where: { $0.from == i }), n.causeChains[k] >= 0 { return n.causeChains[k] }
        }
        return nil
    }

    func rank(of i: Int) -> Int32 { Int32(clamping: i) }
}

/// A causal chain with what `why` prints of its events.
public struct CausalChainReport: Sendable {
    public let chain: CausalChain
    let events: [Int: EventNode]
    /// The chain's events and the edges between them, for drawing.
    public let subgraph: Subgraph

    public func node(_ i: Int) -> EventNode { events[i]! }

    init(chain: CausalChain, nodes: [Int: PassNode]) {
        self.chain = chain
        var events: [Int: EventNode] = [:]
        for step in chain.steps { events[step.node] = nodes[step.node]!.node }
        self.events = events
        // As `EventGraph.subgraph(nodes:)`: per event in stream order, program
        // order from the task's previous chosen event, then the edges out of it
        // (in the order the stream found them) to chosen events.
        let selected = chain.steps.map(\.node)
        let set = Set(selected)
        var out: [Int: [(sequence: Int, edge: Edge)]] = [:]
        for i in selected {
            let n = nodes[i]!
            for (k, e) in n.incoming.enumerated() where set.contains(e.from) { out[e.from, default: []].append((n.edgeSequence[k], e)) }
        }
        var edges: [Edge] = []
        var lastOfChain: [Int32: Int] = [:]
        for i in selected {
            let c = nodes[i]!.chain
            if let prev = lastOfChain[c] { edges.append(Edge(from: prev, to: i, kind: .programOrder)) }
            lastOfChain[c] = i
            edges += (out[i] ?? []).sorted { $0.sequence < $1.sequence }.map(\.edge)
        }
        subgraph = Subgraph(nodes: selected.map { events[$0]! }, edges: edges).addingProgramOrderCauses(of: chain)
    }

    init(chain: CausalChain, graph: EventGraph) {
        self.chain = chain
        var events: [Int: EventNode] = [:]
        for step in chain.steps { events[step.node] = graph.node(step.node) }
        self.events = events
        subgraph = graph.subgraph(chain)
    }
}

extension EventGraph {
    /// `causalChain`'s answer with what `why` prints of its events.
    public func causalChainReport(to target: Int, limit: Int = 64, causesPerKind: Int = 3) -> CausalChainReport {
        CausalChainReport(chain: causalChain(to: target, limit: limit, causesPerKind: causesPerKind), graph: self)
    }

    /// `completeCausalChain`'s answer, the same way.
    public func completeCausalChainReport(to target: Int, limit: Int = 64, causesPerKind: Int = 3) -> CausalChainReport? {
        completeCausalChain(to: target, limit: limit, causesPerKind: causesPerKind).map { CausalChainReport(chain: $0, graph: self) }
    }
}
