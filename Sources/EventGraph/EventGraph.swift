import KernelEvents
import TraceIO

/// The causal graph of a trace: one node per event (by stream index), edges
/// that say why one event happened before another, the kernel objects
/// found and the events that could not be linked. Stored as parallel arrays
/// and compressed adjacency lists; program order is implicit in per-task
/// chains, so the graph costs a few tens of bytes per event.
///
/// An excerpt (`bounds` set) holds the events of one range of the stream
/// from `base` on; its arrays are indexed from there, the public API takes
/// and gives stream indices.
public struct EventGraph: Sendable {
    /// The stream index of node 0.
    let base: Int
    /// Set for an excerpt: what it knows of the events outside it.
    let bounds: ExcerptBounds?
    let nodes: NodeColumns
    let edgeSources: [Int32]
    let edgeTargets: [Int32]
    let edgeKinds: [UInt8]
    /// Incoming edges of node i: `inEdges[inOffsets[i]..<inOffsets[i+1]]`.
    let inOffsets: [Int32]
    let inEdges: [Int32]
    let outOffsets: [Int32]
    let outEdges: [Int32]
    /// Nodes of chain c by position: `chainNodes[chainOffsets[c]..<chainOffsets[c+1]]`.
    let chainOffsets: [Int32]
    let chainNodes: [Int32]
    let chainPids: [Int32]
    /// Positions of the nodes of chain c that have an edge from another chain, ascending.
    let anchorOffsets: [Int32]
    let anchorPositions: [Int32]
    /// A topological rank, nil when the stream order already is one.
    let ranks: [Int32]?
    let nameTable: [String]
    let inodeTable: [InodeID]
    let comms: [Int32: String]

    public let objectCounts: [ObjectKind: Int]
    /// Unlinked events in stream order (the first `UnlinkedLog.keptLimit`).
    public let unlinked: [UnlinkedEvent]
    /// Every unlinked event counted, kept in `unlinked` or not.
    let unlinkedTotals: [UnlinkedKind: UnlinkedCount]
    public let geometries: [DeviceGeometry]
    public let diagnostics: [Diagnostic]
    public let conversions: [ConversionLink]
    public let workItems: [WorkItem]
    public let lostEvents: [LostEvents]
    public let lossBeforeStart: Bool
    /// Edges whose cause sits later in the stream than its effect: per-CPU
    /// clocks that disagree. Queries stay correct; verdicts that rely on
    /// cross-CPU timestamps should say so.
    public let backwardEdges: Int

    init(nodes: NodeColumns, edges: EdgeColumns, chainLengths: [Int32], chainPids: [Int32],
         nameTable: [String], inodeTable: [InodeID], comms: [Int32: String],
         summary: StreamSummary, lostEvents: [LostEvents], base: Int = 0, bounds: ExcerptBounds? = nil) {
        let n = nodes.count
        self.base = base
        self.bounds = bounds
        self.nodes = nodes
        edgeSources = edges.sources
        edgeTargets = edges.targets
        edgeKinds = edges.kinds
        (inOffsets, inEdges) = Self.compress(n: n, keys: edges.targets)
        (outOffsets, outEdges) = Self.compress(n: n, keys: edges.sources)

        // Chains: counting sort of nodes by chain; positions are already in order.
        var offsets = [Int32](repeating: 0, count: chainLengths.count + 1)
        for (c, len) in chainLengths.enumerated() { offsets[c + 1] = offsets[c] + len }
        var members = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            members[Int(offsets[Int(nodes.chains[i])] + nodes.positions[i])] = Int32(i)
        }
        chainOffsets = offsets
        chainNodes = members
        self.chainPids = chainPids

        // Anchors: nodes with an edge from another chain.
        var anchorCount = [Int32](repeating: 0, count: chainLengths.count + 1)
        var isAnchor = [Bool](repeating: false, count: n)
        var backward = 0
        for e in 0..<edges.count {
            let s = Int(edges.sources[e]), t = Int(edges.targets[e])
            if s > t { backward += 1 }
            if nodes.chains[s] != nodes.chains[t], !isAnchor[t] {
                isAnchor[t] = true
                anchorCount[Int(nodes.chains[t]) + 1] += 1
            }
        }
        for c in 0..<chainLengths.count { anchorCount[c + 1] += anchorCount[c] }
        var anchors = [Int32](repeating: 0, count: Int(anchorCount.last ?? 0))
        var fill = anchorCount
        for i in members where isAnchor[Int(i)] {
            let c = Int(nodes.chains[Int(i)])
            anchors[Int(fill[c])] = nodes.positions[Int(i)]
            fill[c] += 1
        }
        anchorOffsets = anchorCount
        anchorPositions = anchors
        backwardEdges = backward
        ranks = backward == 0 ? nil : Self.topologicalRanks(n: n, nodes: nodes, sources: edges.sources,
                                                             inOffsets: inOffsets, outOffsets: outOffsets,
                                                             outEdges: outEdges, targets: edges.targets)

        self.nameTable = nameTable
        self.inodeTable = inodeTable
        self.comms = comms
        self.objectCounts = summary.objects
        self.unlinked = summary.unlinked
        self.unlinkedTotals = summary.unlinkedCounts
        self.geometries = summary.geometries
        self.diagnostics = summary.diagnostics
        self.conversions = summary.conversions
        self.workItems = summary.workItems
        self.lostEvents = lostEvents
        self.lossBeforeStart = summary.lossBeforeStart
    }

    /// Compressed adjacency: edge ids grouped by `keys[edge]`.
    static func compress(n: Int, keys: [Int32]) -> ([Int32], [Int32]) {
        var offsets = [Int32](repeating: 0, count: n + 1)
        for k in keys { offsets[Int(k) + 1] += 1 }
        for i in 0..<n { offsets[i + 1] += offsets[i] }
        var fill = offsets
        var ids = [Int32](repeating: 0, count: keys.count)
        for (e, k) in keys.enumerated() {
            ids[Int(fill[Int(k)])] = Int32(e)
            fill[Int(k)] += 1
        }
        return (offsets, ids)
    }

    /// Kahn's algorithm over explicit edges plus program order. Nodes on a
    /// cycle (clocks so far apart that causes follow effects both ways) get
    /// ranks after all others, in stream order.
    static func topologicalRanks(n: Int, nodes: NodeColumns, sources: [Int32], inOffsets: [Int32],
                                 outOffsets: [Int32], outEdges: [Int32], targets: [Int32]) -> [Int32] {
        var indegree = [Int32](repeating: 0, count: n)
        var nextInChain = [Int32](repeating: -1, count: n)
        var lastOfChain: [Int32: Int32] = [:]
        for i in 0..<n {
            indegree[i] = inOffsets[i + 1] - inOffsets[i]
            if let prev = lastOfChain[nodes.chains[i]] {
                nextInChain[Int(prev)] = Int32(i)
                indegree[i] += 1
            }
            lastOfChain[nodes.chains[i]] = Int32(i)
        }
        var ranks = [Int32](repeating: -1, count: n)
        var queue: [Int32] = (0..<n).filter { indegree[$0] == 0 }.map(Int32.init)
        var head = 0
        var next: Int32 = 0
        while head < queue.count {
            let v = Int(queue[head]); head += 1
            ranks[v] = next; next += 1
            func release(_ w: Int32) {
                indegree[Int(w)] -= 1
                if indegree[Int(w)] == 0 { queue.append(w) }
            }
            if nextInChain[v] >= 0 { release(nextInChain[v]) }
            for e in outEdges[Int(outOffsets[v])..<Int(outOffsets[v + 1])] { release(targets[Int(e)]) }
        }
        for i in 0..<n where ranks[i] < 0 { ranks[i] = next; next += 1 }
        return ranks
    }
}
