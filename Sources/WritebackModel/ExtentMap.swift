/// The on-disk state of a logical block, as the extent tree records it.
/// (The extent-status cache is not modelled: the model tracks what a reader
/// that misses the page cache would get from disk.)
public enum ExtentState: UInt8, Hashable, Sendable, CustomStringConvertible {
    /// No block allocated: reads return zeros, a write allocates.
    case hole
    /// Allocated but flagged unwritten (fallocate, or allocation during
    /// writeback under dioread_nolock): reads return zeros whatever is on disk.
    case unwritten
    /// Allocated and written: reads return the data on disk.
    case written

    public var description: String {
        switch self {
        case .hole: return "hole"
        case .unwritten: return "unwritten"
        case .written: return "written"
        }
    }
}

/// One inode's extent map: sorted, non-overlapping, coalesced runs of
/// allocated blocks. Blocks outside every run are holes. A value type, so a
/// model state that contains it stays hashable.
public struct ExtentMap: Hashable, Sendable {
    public struct Run: Hashable, Sendable {
        public var range: BlockRange
        public var state: ExtentState
    }

    public private(set) var runs: [Run] = []
    /// How many times `set` turned allocated blocks into holes: two versions
    /// of one map with the same count differ by no freed block, which lets
    /// `freed(since:)` answer without comparing the runs. Not part of the
    /// value (equality and hashing ignore it): it is history, not state.
    private var frees: UInt64 = 0

    public init() {}

    public static func == (a: ExtentMap, b: ExtentMap) -> Bool { a.runs == b.runs }
    public func hash(into hasher: inout Hasher) { hasher.combine(runs) }

    /// The first run that ends after `block` (runs are sorted and disjoint):
    /// lookups are O(log runs), since a fragmented file has thousands.
    func firstRun(endingAfter block: UInt64) -> Int {
        var lo = 0, hi = runs.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if runs[mid].range.end <= block { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The state of one block.
    public func state(of block: UInt64) -> ExtentState {
        let i = firstRun(endingAfter: block)
        return i < runs.count && runs[i].range.contains(block) ? runs[i].state : .hole
    }

    /// The runs (holes included) that make up `range`, in order.
    public func states(in range: BlockRange) -> [Run] {
        var result: [Run] = []
        var cursor = range.lblk
        var i = firstRun(endingAfter: range.lblk)
        while i < runs.count, runs[i].range.lblk < range.end {
            if let overlap = runs[i].range.intersection(range) {
                if overlap.lblk > cursor {
                    result.append(Run(range: BlockRange(lblk: cursor, len: overlap.lblk - cursor), state: .hole))
                }
                result.append(Run(range: overlap, state: runs[i].state))
                cursor = overlap.end
            }
            i += 1
        }
        if cursor < range.end {
            result.append(Run(range: BlockRange(lblk: cursor, len: range.end - cursor), state: .hole))
        }
        return result
    }

    /// Whether some block of `range` is a hole, without listing the runs.
    public func hasHole(in range: BlockRange) -> Bool {
        var cursor = range.lblk
        var i = firstRun(endingAfter: range.lblk)
        while cursor < range.end, i < runs.count, runs[i].range.lblk <= cursor {
            cursor = runs[i].range.end
            i += 1
        }
        return cursor < range.end
    }

    /// Blocks allocated in `old` that are holes here: what a transition
    /// freed. `old` is an earlier version of this map (the same inode's map
    /// before a step): when no block was freed in between, that is known
    /// without a look at the runs.
    public func freed(since old: ExtentMap) -> [BlockRange] {
        if frees == old.frees { return [] }
        // A transition changes a few neighbouring runs: skip the runs both
        // maps share at either end and compare only the window between.
        var head = 0
        while head < runs.count, head < old.runs.count, runs[head] == old.runs[head] { head += 1 }
        var tail = 0
        while tail < runs.count - head, tail < old.runs.count - head,
              runs[runs.count - 1 - tail] == old.runs[old.runs.count - 1 - tail] { tail += 1 }
        return old.runs[head..<(old.runs.count - tail)].flatMap { ranges(in: $0.range, state: .hole) }
    }

    /// The sub-ranges of `range` that are in `state`.
    public func ranges(in range: BlockRange, state wanted: ExtentState) -> [BlockRange] {
        states(in: range).filter { $0.state == wanted }.map(\.range)
    }

    /// The end of the last allocated block (0 for an empty map).
    public var allocatedEnd: UInt64 { runs.last?.range.end ?? 0 }

    /// Sets every block of `range` to `state` (`.hole` frees them).
    public mutating func set(_ range: BlockRange, to state: ExtentState) {
        guard !range.isEmpty else { return }
        // Only the runs overlapping or touching `range` change: replace that
        // window, keeping the rest of the (sorted) array as it is.
        var first = firstRun(endingAfter: range.lblk)
        if first > 0, runs[first - 1].range.end == range.lblk { first -= 1 }
        var last = first
        while last < runs.count, runs[last].range.lblk <= range.end { last += 1 }
        var window: [Run] = []
        window.reserveCapacity(last - first + 3)
        var placed = false
        var freedBlocks = false
        for run in runs[first..<last] {
            if state == .hole, run.range.intersection(range) != nil { freedBlocks = true }
            if run.range.intersection(range) == nil {
                if !placed, run.range.lblk >= range.end, state != .hole {
                    window.append(Run(range: range, state: state))
                    placed = true
                }
                window.append(run)
                continue
            }
            if run.range.lblk < range.lblk {
                window.append(Run(range: BlockRange(lblk: run.range.lblk, len: range.lblk - run.range.lblk), state: run.state))
            }
            if !placed, state != .hole {
                window.append(Run(range: range, state: state))
                placed = true
            }
            if run.range.end > range.end {
                window.append(Run(range: BlockRange(lblk: range.end, len: run.range.end - range.end), state: run.state))
            }
        }
        if !placed, state != .hole { window.append(Run(range: range, state: state)) }
        runs.replaceSubrange(first..<last, with: Self.coalesced(window))
        if freedBlocks { frees &+= 1 }
    }

    /// Changes only the blocks of `range` that are currently `from` to `to`
    /// (the conversion of an io_end_vec touches only its unwritten blocks).
    public mutating func change(_ range: BlockRange, from: ExtentState, to: ExtentState) {
        for sub in ranges(in: range, state: from) { set(sub, to: to) }
    }

    private static func coalesced(_ sorted: [Run]) -> [Run] {
        var out: [Run] = []
        for run in sorted {
            if var last = out.last, last.state == run.state, last.range.end == run.range.lblk {
                last.range.len += run.range.len
                out[out.count - 1] = last
            } else {
                out.append(run)
            }
        }
        return out
    }
}
