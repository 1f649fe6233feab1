import EventGraph
import TraceIO

/// What proves that one event came before another in a trace.
enum OrderEvidence: String, Hashable, Sendable {
    /// A chain of happens-before edges (program order, syscall, work item,
    /// block I/O, extent → bio → completion → conversion …) leads from one to the other.
    case happensBefore = "happens-before"
    /// Both ran on one CPU, whose clock never goes back.
    case sameCPU = "same CPU"
    /// The trace clock is global (`mono`, `global` …): timestamps of different CPUs compare.
    case globalClock = "global clock"
    /// Under a per-CPU clock, the two are further apart than CPUs' clocks can disagree.
    case clockGap = "clock gap"
}

/// How the trace orders two events.
enum Ordering: Hashable, Sendable {
    case ordered(OrderEvidence)
    /// The stream put them one way, but `OrderEvidence` orders them the other way.
    case reversed(OrderEvidence)
    /// Nothing orders them: different CPUs, closer than a per-CPU clock can
    /// tell, and no happens-before path either way.
    case unordered
}

/// Orders pairs of events the way a verdict may rely on: happens-before
/// edges first (they hold whatever the clock), then one CPU's clock, then
/// the trace clock across CPUs when it is global or the gap is wide enough.
struct OrderJudge {
    let window: HappensBeforeWindow
    let reliability: TraceReliability

    func order(_ a: Stamp, _ b: Stamp) -> Ordering {
        guard a.index != b.index else { return .ordered(.sameCPU) }
        if window.isBefore(a.index, b.index) == true { return .ordered(.happensBefore) }
        if window.isBefore(b.index, a.index) == true { return .reversed(.happensBefore) }
        if a.cpu == b.cpu { return a.index < b.index ? .ordered(.sameCPU) : .reversed(.sameCPU) }
        if reliability.clockIsGlobal {
            if a.timestamp == b.timestamp { return .unordered }
            return a.timestamp < b.timestamp ? .ordered(.globalClock) : .reversed(.globalClock)
        }
        let gap = a.timestamp > b.timestamp ? a.timestamp - b.timestamp : b.timestamp - a.timestamp
        guard gap >= reliability.crossCPUBound else { return .unordered }
        return a.timestamp < b.timestamp ? .ordered(.clockGap) : .reversed(.clockGap)
    }

    /// Why `a` and `b` cannot be ordered, naming both events.
    func unorderedReason(_ a: Stamp, _ aRole: String, _ b: Stamp, _ bRole: String, names: EventNames) -> String {
        let gap = a.timestamp > b.timestamp ? a.timestamp - b.timestamp : b.timestamp - a.timestamp
        let clock = reliability.clock.map { "the per-CPU clock '\($0)'" } ?? "an unknown (possibly per-CPU) trace clock"
        return "nothing orders event #\(a.index) \(names[a.name]) (\(aRole), CPU \(a.cpu)) and event #\(b.index) "
            + "\(names[b.name]) (\(bRole), CPU \(b.cpu)): \(microseconds(gap)) µs apart under \(clock), "
            + "closer than \(reliability.crossCPUBound / 1000) µs, and no happens-before path joins them"
    }

    func reversedReason(_ a: Stamp, _ aRole: String, _ b: Stamp, _ bRole: String, by evidence: OrderEvidence,
                        names: EventNames) -> String {
        "the replay took event #\(a.index) \(names[a.name]) (\(aRole)) before event #\(b.index) \(names[b.name]) "
            + "(\(bRole)), but \(evidence.rawValue) orders #\(b.index) first"
    }
}

/// "37" µs, or "3.5" below 10 µs.
func microseconds(_ ns: UInt64) -> String {
    ns >= 10_000 ? String(ns / 1000) : "\(ns / 1000).\(ns % 1000 / 100)"
}
