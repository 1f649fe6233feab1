extension EventGraph {
    @inline(__always)
    func rank(_ i: Int) -> Int32 { ranks?[i] ?? Int32(i) }

    /// Whether event `a` happens before event `b`: a path of edges (program
    /// order included) leads from a to b.
    ///
    /// Searches backwards from b. Program order is never walked event by
    /// event: reaching a task's event at position p means every earlier
    /// event of that task is an ancestor, so only the task's anchors (events
    /// with an edge from another task) between the part already reached and
    /// p are expanded. Nodes ranked before a are pruned. The cost is in the
    /// number of cross-task edges behind b, not the number of events.
    public func isBefore(_ a: Int, _ b: Int) -> Bool {
        let a = a - base, b = b - base
        guard a != b, a >= 0, b >= 0, a < nodes.count, b < nodes.count else { return false }
        let ra = rank(a)
        guard ra < rank(b) else { return false }
        let chainA = nodes.chains[a], posA = nodes.positions[a]
        var reached: [Int32: Int32] = [:]
        var stack: [Int32] = [Int32(b)]
        while let x = stack.popLast() {
            let c = nodes.chains[Int(x)], p = nodes.positions[Int(x)]
            let before = reached[c] ?? -1
            guard p > before else { continue }
            reached[c] = p
            if c == chainA, posA <= p { return true }
            forEachAnchor(chain: c, after: before, upTo: p, notRankedBefore: ra) { node in
                for e in inEdges[Int(inOffsets[node])..<Int(inOffsets[node + 1])] {
                    let s = edgeSources[Int(e)]
                    if rank(Int(s)) >= ra { stack.append(s) }
                }
            }
        }
        return false
    }

    /// Calls `body` with each anchor of chain `c` at positions in (after, upTo],
    /// latest first, down to the first one ranked before `minRank`: ranks grow
    /// along a task's chain, so no earlier anchor can lead back to it.
    func forEachAnchor(chain c: Int32, after: Int32, upTo: Int32, notRankedBefore minRank: Int32, _ body: (Int) -> Void) {
        let start = Int(anchorOffsets[Int(c)])
        var lo = start, hi = Int(anchorOffsets[Int(c) + 1])
        while lo < hi {
            let mid = (lo + hi) / 2
            if anchorPositions[mid] <= upTo { lo = mid + 1 } else { hi = mid }
        }
        let base = Int(chainOffsets[Int(c)])
        var i = lo - 1
        while i >= start, anchorPositions[i] > after {
            let node = Int(chainNodes[base + Int(anchorPositions[i])])
            if rank(node) < minRank { break }
            body(node)
            i -= 1
        }
    }

    /// The last anchor of event i's task strictly before i: where program
    /// order last received a cause from another task.
    func previousAnchor(of i: Int) -> Int? {
        let c = Int(nodes.chains[i]), p = nodes.positions[i]
        var lo = Int(anchorOffsets[c]), hi = Int(anchorOffsets[c + 1])
        let start = lo
        while lo < hi {
            let mid = (lo + hi) / 2
            if anchorPositions[mid] < p { lo = mid + 1 } else { hi = mid }
        }
        guard lo > start else { return nil }
        return Int(chainNodes[Int(chainOffsets[c]) + Int(anchorPositions[lo - 1])])
    }
}

/// One step of a causal chain: an event and the edges into it that the chain follows.
public struct CausalStep: Hashable, Sendable {
    public var node: Int
    public var causes: [Edge]
    /// For a program-order cause: how many events of the task lie between it and `node`.
    public var skippedEvents: Int
    /// Causes left out because `node` has more than `causesPerKind` of one kind
    /// (a work run that drains many completions); the latest ones are kept.
    public var omittedCauses: Int
}

/// The events that lead to a target event, latest causes first explored,
/// in stream order.
public struct CausalChain: Hashable, Sendable {
    public var target: Int
    public var steps: [CausalStep]
    /// The search stopped at `limit` events; earlier causes exist.
    public var truncated: Bool
}

extension EventGraph {
    /// The causes of `target`: explicit edges into it, and for program order
    /// the task's last event that received a cause from another task (the
    /// work start before a conversion, the completion before a queue_work …),
    /// followed backwards up to `limit` events, latest first.
    public func causalChain(to target: Int, limit: Int = 64, causesPerKind: Int = 3) -> CausalChain {
        var complete = true
        return causalChain(to: target, limit: limit, causesPerKind: causesPerKind, complete: &complete)
    }

    /// The same; `complete` turns false when the graph is an excerpt that
    /// lacks a step's causes or its task's previous anchor.
    func causalChain(to target: Int, limit: Int, causesPerKind: Int, complete: inout Bool) -> CausalChain {
        guard contains(event: target) else { return CausalChain(target: target, steps: [], truncated: false) }
        var source = GraphCauses(graph: self)
        var search = CausalChainSearch(target: target, limit: limit, causesPerKind: causesPerKind,
                                       rank: rank(target - base))
        let needed = search.run(&source)
        precondition(needed.isEmpty, "a graph holds the causes of its events")
        if !source.complete { complete = false }
        return search.chain
    }
}

/// The causes of the events of a graph, for `CausalChainSearch`; notes when
/// the graph is an excerpt that lacks some of them.
struct GraphCauses: CauseSource {
    let graph: EventGraph
    var complete = true

    mutating func causeNode(_ i: Int) -> CauseNode? {
        let x = i - graph.base
        let nodes = graph.nodes
        let anchor = graph.previousAnchor(of: x)
        if let bounds = graph.bounds {
            let c = nodes.chains[x]
            let after = anchor.map { nodes.positions[$0] } ?? -1
            if bounds.cut.contains(Int32(x))
                || bounds.cutBetween(chain: c, after: after, before: nodes.positions[x])
                || (anchor == nil && bounds.chainEarlier[Int(c)]) { complete = false }
        }
        return CauseNode(incoming: graph.incoming(i), chain: nodes.chains[x], position: nodes.positions[x],
                         previousAnchor: anchor.map { ($0 + graph.base, nodes.positions[$0]) })
    }

    func chain(of i: Int) -> Int32? { graph.nodes.chains[i - graph.base] }

    func rank(of i: Int) -> Int32 { graph.rank(i - graph.base) }
}
