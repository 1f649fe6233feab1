import TraceIO

/// A working copy of a source trace that events can be removed from,
/// moved in time (and to another CPU or task) and inserted into; `build()`
/// puts everything back in the order a reader would deliver it — global
/// timestamp order, ties in the order the edits placed them — and says
/// where each tagged event ended up.
public struct MutableTrace {
    struct Slot {
        var record: TraceRecord
        /// Sort key after the timestamp: the source position for events
        /// kept in place, the anchor's key plus a step for placed ones.
        var order: Double
        var removed = false
        var tag: String?
        /// Placed or changed by the edit.
        var edited = false
    }

    let index: TraceIndex
    /// The source's records are shared, never copied: an edit lives in
    /// `changed` (source slots) and `added` (placed events), so that a copy
    /// of a scenario — one per placement tried — costs its edits only.
    private var changed: [Int: Slot] = [:]
    private var added: [Slot] = []
    /// Source event position → slot.
    private let slotOfEvent: [Int]
    private var placedAfter: [Double: Int] = [:]
    /// Where a lost-events mark sorts: its timestamp, or the event before it.
    private let lostTimes: [Int: UInt64]

    public init(_ index: TraceIndex) {
        self.index = index
        slotOfEvent = index.recordPositions
        lostTimes = index.lostMarkTimes
    }

    private var sourceCount: Int { index.source.records.count }

    private func slot(_ i: Int) -> Slot {
        if i >= sourceCount { return added[i - sourceCount] }
        return changed[i] ?? Slot(record: index.source.records[i], order: Double(i))
    }

    private mutating func change(_ i: Int, _ edit: (inout Slot) -> Void) {
        var s = slot(i)
        edit(&s)
        changed[i] = s
    }

    var resolution: UInt64 { index.source.resolution }

    /// `t` rounded up to the trace's resolution (text traces print µs).
    public func aligned(_ t: UInt64) -> UInt64 {
        let r = resolution
        return (t + r - 1) / r * r
    }

    public func event(_ position: Int) -> TraceEvent {
        guard case .event(let e) = slot(slotOfEvent[position]).record else { fatalError("not an event") }
        return e
    }

    public func isRemoved(_ position: Int) -> Bool { slot(slotOfEvent[position]).removed }

    public mutating func remove(_ position: Int) {
        change(slotOfEvent[position]) { $0.removed = true }
    }

    public mutating func remove(_ positions: some Sequence<Int>) {
        for p in positions { remove(p) }
    }

    /// The latest time of an event the edit placed or moved.
    public var lastPlacedTime: UInt64 {
        var t: UInt64 = 0
        for s in Array(changed.values) + added where !s.removed && s.edited {
            if case .event(let e) = s.record { t = max(t, e.timestamp) }
        }
        return t
    }

    /// Ends the recording at `t`: every record after it goes (as if tracing
    /// had stopped there).
    public mutating func cut(after t: UInt64) {
        for i in 0..<(sourceCount + added.count) {
            switch slot(i).record {
            case .event(let e): if e.timestamp > t { remove(slot: i) }
            case .lost: if (lostTimes[i] ?? 0) > t { remove(slot: i) }
            }
        }
    }

    private mutating func remove(slot i: Int) {
        if i >= sourceCount { added[i - sourceCount].removed = true } else { change(i) { $0.removed = true } }
    }

    /// Names a source event so that `build()` reports its final index.
    public mutating func tag(_ position: Int, _ name: String) {
        change(slotOfEvent[position]) { $0.tag = name }
    }

    /// Changes a source event in place (its fields, task, CPU or time); an
    /// event given a new time sorts by it, after events of equal time that
    /// precede `after` (a source position) when one is given.
    public mutating func update(_ position: Int, after: Int? = nil, _ change: (inout TraceEvent) -> Void) {
        let s = slotOfEvent[position]
        guard case .event(var e) = slot(s).record else { return }
        change(&e)
        let order = after.map { nextOrder(after: slot(slotOfEvent[$0]).order) }
        self.change(s) {
            $0.record = .event(e)
            $0.edited = true
            if let order { $0.order = order }
        }
    }

    /// Inserts `event` right after source event `after` in the order of
    /// equal timestamps (it still sorts by its own timestamp first).
    @discardableResult
    public mutating func insert(_ event: TraceEvent, after: Int, tag: String? = nil) -> Int {
        let order = nextOrder(after: slot(slotOfEvent[after]).order)
        added.append(Slot(record: .event(event), order: order, tag: tag, edited: true))
        return sourceCount + added.count - 1
    }

    /// Inserts a sequence of events after `after`, each after the previous one.
    public mutating func insert(_ events: [TraceEvent], after: Int, tags: [Int: String] = [:]) {
        var order = slot(slotOfEvent[after]).order
        for (k, e) in events.enumerated() {
            order = nextOrder(after: order)
            added.append(Slot(record: .event(e), order: order, tag: tags[k], edited: true))
        }
    }

    private mutating func nextOrder(after base: Double) -> Double {
        // Successive placements after the same anchor keep their order,
        // all before the next source position.
        let n = placedAfter[base, default: 0] + 1
        placedAfter[base] = n
        return base + Double(n) / 4096.0
    }

    /// The stream as a reader would deliver it, and the final event index of every tag.
    public func build() -> (records: [TraceRecord], tags: [String: Int]) {
        var live: [(t: UInt64, order: Double, slot: Int)] = []
        live.reserveCapacity(sourceCount + added.count)
        for i in 0..<(sourceCount + added.count) {
            let s = slot(i)
            guard !s.removed else { continue }
            switch s.record {
            case .event(let e): live.append((e.timestamp, s.order, i))
            case .lost: live.append((lostTimes[i] ?? 0, s.order, i))
            }
        }
        live.sort { ($0.t, $0.order) < ($1.t, $1.order) }
        var records: [TraceRecord] = []
        records.reserveCapacity(live.count)
        var tags: [String: Int] = [:]
        var eventIndex = 0
        for item in live {
            let s = slot(item.slot)
            records.append(s.record)
            if case .event = s.record {
                if let tag = s.tag { tags[tag] = eventIndex }
                eventIndex += 1
            }
        }
        return (records, tags)
    }
}
