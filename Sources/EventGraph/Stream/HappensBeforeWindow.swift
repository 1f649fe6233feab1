import KernelEvents
import TraceIO

/// Happens-before over the most recent events of a stream: what a streaming
/// consumer (the replay deciding a verdict, `why`) asks of the graph without
/// keeping the whole trace. It is fed every event with the edges the
/// `GraphStream` found there, keeps each event's task chain and position,
/// and the edges between tasks ("anchors": program order inside a task is
/// implicit), for the last `capacity` events. Older events fall out; a
/// query about them answers nil (unknown), never a guess.
public struct HappensBeforeWindow: Sendable {
    public let capacity: Int
    /// Index of the oldest event still held.
    public private(set) var base = 0
    /// One past the newest event.
    public private(set) var end = 0
    private var chains = ChainTable()
    private var slots: [Slot]
    /// Per chain: the events with an edge from another task, by position.
    private var anchors: [Int32: [Anchor]] = [:]
    private var anchorCount = 0

    struct Slot {
        var chain: Int32 = -1
        var position: Int32 = -1
        var timestamp: UInt64 = 0
        var cpu: Int32 = 0
        var pid: Int32 = 0
        var tag: UInt32 = 0
    }

    struct Anchor {
        var position: Int32
        var index: Int
        var causes: [(from: Int, kind: EdgeKind)]
    }

    public init(capacity: Int = 1 << 20) {
        self.capacity = max(16, capacity)
        slots = []
        // Reserved, not filled: the pages are touched as events arrive (a
        // short trace costs no more), and growing by doubling would copy
        // the window's slots again and again on a long one.
        slots.reserveCapacity(self.capacity)
    }

    /// Adds event `stamp.index` (which must be `end`) and the edges found at
    /// it; `tag` is the consumer's (an event-name number, say), read back by `tag(_:)`.
    public mutating func add(_ stamp: StreamStamp, tag: UInt32 = 0, edges: [Edge]) {
        precondition(stamp.index == end, "events must come in stream order")
        if slots.count < capacity {
            slots.append(Slot())
        }
        let (chain, position) = chains.append(pid: stamp.pid, cpu: stamp.cpu)
        slots[stamp.index % capacity] = Slot(chain: chain, position: position, timestamp: stamp.timestamp,
                                             cpu: Int32(truncatingIfNeeded: stamp.cpu), pid: stamp.pid, tag: tag)
        end = stamp.index + 1
        if end - base > capacity {
            base = end - capacity
            if anchorCount > 4 * capacity / 16 + 1024 { dropOldAnchors() }
        }
        for e in edges { addEdge(e) }
    }

    /// Holds `i` (within the window)?
    public func holds(_ i: Int) -> Bool { i >= base && i < end }

    private func slot(_ i: Int) -> Slot { slots[i % capacity] }

    public func timestamp(_ i: Int) -> UInt64? { holds(i) ? slot(i).timestamp : nil }
    public func cpu(_ i: Int) -> Int? { holds(i) ? Int(slot(i).cpu) : nil }
    public func pid(_ i: Int) -> Int32? { holds(i) ? slot(i).pid : nil }
    public func tag(_ i: Int) -> UInt32? { holds(i) ? slot(i).tag : nil }

    private mutating func addEdge(_ e: Edge) {
        guard holds(e.to), holds(e.from) else { return }
        let t = slot(e.to), f = slot(e.from)
        guard t.chain != f.chain else { return }
        // In place (`default:` subscript): a copy of the chain's list per
        // edge would make the window quadratic in a task's anchors.
        if anchors[t.chain, default: []].add(position: t.position, index: e.to, cause: (e.from, e.kind)) {
            anchorCount += 1
        }
    }

    private mutating func dropOldAnchors() {
        anchorCount = 0
        for (c, list) in anchors {
            let kept = list.filter { $0.index >= base }
            anchors[c] = kept.isEmpty ? nil : kept
            anchorCount += kept.count
        }
    }

    /// Whether event `a` happens before event `b`: a path of edges (program
    /// order included) leads from a to b. nil when either event has left the
    /// window (or not arrived): the window cannot tell.
    ///
    /// Searches backwards from b. Program order is never walked event by
    /// event: reaching a task's event at position p means every earlier
    /// event of that task is an ancestor, so only the task's anchors between
    /// the part already reached and p are expanded; each anchor once.
    public func isBefore(_ a: Int, _ b: Int) -> Bool? {
        guard holds(a), holds(b) else { return nil }
        guard a != b else { return false }
        let sa = slot(a)
        var reached: [Int32: Int32] = [:]
        var stack: [(chain: Int32, position: Int32)] = [(slot(b).chain, slot(b).position)]
        while let (c, p) = stack.popLast() {
            let before = reached[c] ?? -1
            guard p > before else { continue }
            reached[c] = p
            if c == sa.chain, sa.position <= p, a != b { return true }
            guard let list = anchors[c] else { continue }
            var i = upperBound(list, p) - 1
            while i >= 0, list[i].position > before {
                for cause in list[i].causes where holds(cause.from) {
                    let s = slot(cause.from)
                    stack.append((s.chain, s.position))
                }
                i -= 1
            }
        }
        return false
    }

    /// The causes of `target` inside the window: explicit edges into it, and
    /// for program order the task's last event that received a cause from
    /// another task, followed backwards up to `limit` events, in stream order.
    public func causalChain(to target: Int, limit: Int = 64) -> [CausalStep] {
        guard holds(target) else { return [] }
        var visited: Set<Int> = [target]
        var frontier: [Int] = [target]
        var steps: [CausalStep] = []
        while !frontier.isEmpty, steps.count < limit {
            frontier.sort()
            let x = frontier.removeLast()
            let s = slot(x)
            var causes: [Edge] = []
            var skipped = 0
            if let list = anchors[s.chain] {
                let i = upperBound(list, s.position) - 1
                if i >= 0, list[i].position == s.position {
                    for c in list[i].causes where holds(c.from) { causes.append(Edge(from: c.from, to: x, kind: c.kind)) }
                }
                // The previous anchor of the task: where program order last received a cause.
                var j = i
                if j >= 0, list[j].position == s.position { j -= 1 }
                if j >= 0, holds(list[j].index) {
                    causes.append(Edge(from: list[j].index, to: x, kind: .programOrder))
                    skipped = Int(s.position - list[j].position) - 1
                }
            }
            steps.append(CausalStep(node: x, causes: causes, skippedEvents: skipped, omittedCauses: 0))
            for c in causes where visited.insert(c.from).inserted { frontier.append(c.from) }
        }
        steps.sort { $0.node < $1.node }
        return steps
    }

    /// Number of anchors with position ≤ p (list sorted by position).
    private func upperBound(_ list: [Anchor], _ p: Int32) -> Int {
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if list[mid].position <= p { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

extension Array where Element == HappensBeforeWindow.Anchor {
    /// Adds a cause at `position`, keeping the list sorted by position.
    /// Edges mostly arrive at their target, the chain's newest event; the
    /// edge from the completion that queued a conversion work, linked when
    /// the work converts, points back into the chain. True when a new
    /// anchor was made.
    mutating func add(position: Int32, index: Int, cause: (from: Int, kind: EdgeKind)) -> Bool {
        var at = count
        while at > 0, self[at - 1].position > position { at -= 1 }
        if at > 0, self[at - 1].position == position {
            self[at - 1].causes.append(cause)
            return false
        }
        insert(HappensBeforeWindow.Anchor(position: position, index: index, causes: [cause]), at: at)
        return true
    }
}
