import TraceIO

/// How much of a trace's time lies where events may be missing: the union of
/// the lost windows (on any CPU) and, after an overwritten ring buffer, the
/// time before the overwrite horizon. `check` reports it so that a user sees
/// how much of the trace its verdicts cannot rely on.
public struct LostCoverage: Sendable, Equatable {
    /// Time of the first and last event read.
    public var first: UInt64?
    public var last: UInt64?
    /// Nanoseconds of [first, last] inside a lost window or before the horizon.
    public var lostNanoseconds: UInt64 = 0

    public init() {}

    /// The share of the trace's span that is affected, 0 … 1 (0 for an empty span).
    public var fraction: Double {
        guard let first, let last, last > first else { return 0 }
        return Double(lostNanoseconds) / Double(last - first)
    }

    mutating func observe(timestamp: UInt64) {
        if first.map({ timestamp < $0 }) ?? true { first = timestamp }
        if last.map({ timestamp > $0 }) ?? true { last = timestamp }
    }

    /// Measures the union of `reliability`'s windows within the span read.
    mutating func measure(_ reliability: TraceReliability) {
        guard let first, let last else { return }
        var intervals = reliability.windows.map { (max($0.start, first), min($0.end, last)) }
        if let horizon = reliability.overwriteHorizon { intervals.append((first, min(horizon, last))) }
        intervals = intervals.filter { $0.0 < $0.1 }.sorted { $0.0 < $1.0 }
        var total: UInt64 = 0
        var current: (UInt64, UInt64)?
        for interval in intervals {
            if let c = current, interval.0 <= c.1 {
                current = (c.0, max(c.1, interval.1))
            } else {
                if let c = current { total += c.1 - c.0 }
                current = interval
            }
        }
        if let c = current { total += c.1 - c.0 }
        lostNanoseconds = total
    }
}
