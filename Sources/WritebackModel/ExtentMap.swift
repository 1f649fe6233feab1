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

    public init() {}

    /// The state of one block.
    public func state(of block: UInt64) -> ExtentState {
        for run in runs where run.range.contains(block) { return run.state }
        return .hole
    }

    /// The runs (holes included) that make up `range`, in order.
    public func states(in range: BlockRange) -> [Run] {
        var result: [Run] = []
        var cursor = range.lblk
        for run in runs {
            guard let overlap = run.range.intersection(range) else { continue }
            if overlap.lblk > cursor {
                result.append(Run(range: BlockRange(lblk: cursor, len: overlap.lblk - cursor), state: .hole))
            }
            result.append(Run(range: overlap, state: run.state))
            cursor = overlap.end
        }
        if cursor < range.end {
            result.append(Run(range: BlockRange(lblk: cursor, len: range.end - cursor), state: .hole))
        }
        return result
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
        var kept: [Run] = []
        kept.reserveCapacity(runs.count + 2)
        for run in runs {
            if run.range.intersection(range) == nil {
                kept.append(run)
                continue
            }
            if run.range.lblk < range.lblk {
                kept.append(Run(range: BlockRange(lblk: run.range.lblk, len: range.lblk - run.range.lblk), state: run.state))
            }
            if run.range.end > range.end {
                kept.append(Run(range: BlockRange(lblk: range.end, len: run.range.end - range.end), state: run.state))
            }
        }
        if state != .hole { kept.append(Run(range: range, state: state)) }
        kept.sort { $0.range.lblk < $1.range.lblk }
        runs = Self.coalesced(kept)
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
