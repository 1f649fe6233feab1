import KernelEvents
import TraceIO

/// What an excerpt of the graph — the events of one range of the stream,
/// with their edges among themselves — knows of the rest of the trace: just
/// enough to tell whether a query's answer depends on it. Queries that look
/// at one event's surroundings (`why`, `graph --around`) answer from an
/// excerpt when that answer is the whole graph's, and say so (nil) when not.
public struct ExcerptBounds: Sendable {
    /// Events in the whole trace.
    public let totalEvents: Int
    /// Edges of the whole trace whose cause sits later than its effect; any
    /// make the graph's causal order a topological rank over the whole trace.
    public let backwardEdges: Int
    /// Local nodes with an edge to or from an event outside the excerpt,
    /// by local chain, ascending positions.
    let cutPositions: [Int32: [Int32]]
    let cut: Set<Int32>
    /// Per local chain: the task has events before / after the excerpt.
    let chainEarlier: [Bool]
    let chainLater: [Bool]

    /// Whether chain `c` has a cut node at a position in `(after, before)`.
    func cutBetween(chain c: Int32, after: Int32, before: Int32) -> Bool {
        guard let list = cutPositions[c] else { return false }
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if list[mid] <= after { lo = mid + 1 } else { hi = mid }
        }
        return lo < list.count && list[lo] < before
    }
}

/// What `EventGraphBuilder` notes, building an excerpt, about the events it does not keep.
struct ExcerptTracker: Sendable {
    let range: Range<Int>
    /// Events per task (chain key) so far, kept or not: as many entries as
    /// tasks. The last task's run of events is counted in `lastRun` and
    /// added when another task's event comes: a hash per run, not per event.
    private var taskEvents: [Int64: Int] = [:]
    private var chainKeys: [Int64] = []
    private var eventsBefore: [Int] = []
    private var lastKey: Int64 = -1
    private var lastRun = 0
    private var cutNodes: Set<Int32> = []
    private var backward = 0

    init(range: Range<Int>) { self.range = range }

    /// Counts an event of the stream; true when the excerpt keeps it.
    mutating func event(_ stamp: StreamStamp) -> Bool {
        let key = ChainTable.key(pid: stamp.pid, cpu: stamp.cpu)
        if key != lastKey {
            if lastRun > 0 { taskEvents[lastKey, default: 0] += lastRun }
            lastKey = key
            lastRun = 0
        }
        lastRun += 1
        return range.contains(stamp.index)
    }

    /// The last event counted started local chain `chain`.
    mutating func chainStarted(_ chain: Int32, _ stamp: StreamStamp) {
        precondition(Int(chain) == chainKeys.count, "local chains start in order")
        chainKeys.append(lastKey)
        eventsBefore.append(events(of: lastKey) - 1)
    }

    /// The events of task `key` so far.
    private func events(of key: Int64) -> Int {
        taskEvents[key, default: 0] + (key == lastKey ? lastRun : 0)
    }

    /// An edge of the stream in local indices when both its ends are kept;
    /// an edge with one end kept marks that end as cut.
    mutating func edge(_ e: Edge) -> (from: Int, to: Int)? {
        if e.from > e.to { backward += 1 }
        let keepsFrom = range.contains(e.from), keepsTo = range.contains(e.to)
        if keepsFrom && keepsTo { return (e.from - range.lowerBound, e.to - range.lowerBound) }
        if keepsFrom { cutNodes.insert(Int32(e.from - range.lowerBound)) }
        if keepsTo { cutNodes.insert(Int32(e.to - range.lowerBound)) }
        return nil
    }

    func bounds(totalEvents: Int, chainLengths: [Int32], nodeChains: [Int32], nodePositions: [Int32]) -> ExcerptBounds {
        var cutPositions: [Int32: [Int32]] = [:]
        for node in cutNodes.sorted() {
            cutPositions[nodeChains[Int(node)], default: []].append(nodePositions[Int(node)])
        }
        let earlier = eventsBefore.map { $0 > 0 }
        let later = chainKeys.indices.map { c in
            events(of: chainKeys[c]) > eventsBefore[c] + Int(chainLengths[c])
        }
        return ExcerptBounds(totalEvents: totalEvents, backwardEdges: backward, cutPositions: cutPositions,
                             cut: cutNodes, chainEarlier: earlier, chainLater: later)
    }
}

extension EventGraph {
    /// Whether every edge of local node `l` and its task's events on either
    /// side are in this graph (always, for a whole graph).
    func knowsSurroundings(ofLocal l: Int) -> Bool {
        guard let bounds else { return true }
        if bounds.cut.contains(Int32(l)) { return false }
        let c = Int(nodes.chains[l]), p = Int(nodes.positions[l])
        if p == 0, bounds.chainEarlier[c] { return false }
        if Int(chainOffsets[c]) + p + 1 == Int(chainOffsets[c + 1]), bounds.chainLater[c] { return false }
        return true
    }

    /// The events within `depth` hops of `centre`, following causal edges
    /// both ways and program order to the task's neighbours, at most
    /// `limit` of them (nearest first). nil when this graph is an excerpt
    /// that lacks part of them.
    public func neighbourhood(of centre: Int, depth: Int, limit: Int) -> [Int]? {
        var seen: Set<Int> = [centre]
        var frontier = [centre]
        for _ in 0..<depth {
            var next: [Int] = []
            for x in frontier {
                guard knowsSurroundings(ofLocal: x - base) else { return nil }
                var around = (incoming(x) + outgoing(x)).map { $0.from == x ? $0.to : $0.from }
                if let p = programPredecessor(of: x) { around.append(p) }
                if let s = programSuccessor(of: x) { around.append(s) }
                for y in around.sorted(by: { abs($0 - centre) < abs($1 - centre) }) where !seen.contains(y) {
                    guard seen.count < limit else { return seen.sorted() }
                    seen.insert(y)
                    next.append(y)
                }
            }
            frontier = next
        }
        return seen.sorted()
    }

    /// `causalChain(to:limit:causesPerKind:)`, or nil when this graph is an
    /// excerpt that cannot tell it: a step's causes or its task's previous
    /// anchor lie outside, or the chain stops at `limit` and which causes
    /// come first depends on topological ranks over the whole trace (clocks
    /// that disagree, `backwardEdges`). A chain that does not stop at the
    /// limit holds every cause reached, whatever the order they were taken in.
    public func completeCausalChain(to target: Int, limit: Int = 64, causesPerKind: Int = 3) -> CausalChain? {
        var complete = true
        let chain = causalChain(to: target, limit: limit, causesPerKind: causesPerKind, complete: &complete)
        if let bounds, bounds.backwardEdges > 0, chain.truncated { return nil }
        return complete ? chain : nil
    }
}
