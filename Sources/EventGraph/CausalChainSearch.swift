/// What the causal-chain search reads of one event: the explicit edges into
/// it (in the order the stream found them), its task chain and position, and
/// its task's previous anchor (the last earlier event of the task with an
/// edge from another task).
struct CauseNode {
    var incoming: [Edge]
    var chain: Int32
    var position: Int32
    var previousAnchor: (index: Int, position: Int32)?
}

/// Where the search reads events from: the whole graph or an excerpt
/// (`EventGraph`), or the events a streamed pass kept (`StreamedCausalChain`).
protocol CauseSource {
    /// Event `i`'s causes; nil when this source does not hold them.
    mutating func causeNode(_ i: Int) -> CauseNode?
    /// The task chain of event `i`; nil when this source does not know it.
    func chain(of i: Int) -> Int32?
    /// The order the search takes events in, latest first.
    func rank(of i: Int) -> Int32
}

/// The search behind `EventGraph.causalChain`: from the target, the event of
/// highest rank not yet taken, its causes added, up to `limit` events. It
/// can stop where its source lacks an event and go on once a source that
/// holds it is given (`run` returns the events it needs), so a chain can be
/// found over several passes of a stream, each keeping a few events.
struct CausalChainSearch {
    let target: Int
    let limit: Int
    let causesPerKind: Int
    private var visited: Set<Int>
    private var heap = MaxHeap()
    private(set) var steps: [CausalStep] = []
    private(set) var truncated = false
    private(set) var finished = false

    init(target: Int, limit: Int, causesPerKind: Int, rank: Int32) {
        self.target = target
        self.limit = limit
        self.causesPerKind = causesPerKind
        visited = [target]
        heap.push(rank, target)
    }

    /// The events waiting to be taken.
    var pending: [Int] { heap.nodes }

    /// Takes events until the chain is complete (returns []) or the next one
    /// needs what `source` lacks: returns the events whose causes or chain it needs.
    mutating func run(_ source: inout some CauseSource) -> [Int] {
        while let x = heap.peek() {
            if steps.count >= limit { truncated = true; break }
            guard let node = source.causeNode(x) else {
                return heap.nodes.filter { source.causeNode($0) == nil }
            }
            var causes: [Edge] = []
            var omitted = 0
            var perKind: [EdgeKind: Int] = [:]
            for edge in node.incoming.sorted(by: { $0.from > $1.from }) {
                perKind[edge.kind, default: 0] += 1
                if perKind[edge.kind]! > causesPerKind { omitted += 1 } else { causes.append(edge) }
            }
            var skipped = 0
            if let anchor = node.previousAnchor {
                let unknown = causes.filter { $0.from >= anchor.index && source.chain(of: $0.from) == nil }.map(\.from)
                guard unknown.isEmpty else { return unknown }
                let direct = causes.contains { source.chain(of: $0.from) == node.chain && $0.from >= anchor.index }
                if !direct {
                    causes.append(Edge(from: anchor.index, to: x, kind: .programOrder))
                    skipped = Int(node.position - anchor.position) - 1
                }
            }
            _ = heap.pop()
            steps.append(CausalStep(node: x, causes: causes, skippedEvents: skipped, omittedCauses: omitted))
            for c in causes where visited.insert(c.from).inserted {
                heap.push(source.rank(of: c.from), c.from)
            }
        }
        finished = true
        return []
    }

    /// The chain found, in stream order; `run` must have returned [].
    var chain: CausalChain {
        CausalChain(target: target, steps: steps.sorted { $0.node < $1.node }, truncated: truncated)
    }
}

/// A binary max-heap of (rank, node).
struct MaxHeap {
    private var items: [(Int32, Int)] = []

    var nodes: [Int] { items.map(\.1) }

    func peek() -> Int? { items.first?.1 }

    mutating func push(_ rank: Int32, _ node: Int) {
        items.append((rank, node))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent].0 >= items[i].0 { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Int? {
        guard !items.isEmpty else { return nil }
        let top = items[0].1
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, items[l].0 > items[m].0 { m = l }
                if r < items.count, items[r].0 > items[m].0 { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
