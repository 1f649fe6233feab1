import KernelEvents
import TraceIO

/// Which CPU is busy when: a task's injected events must not interleave with
/// another task's events on the same CPU (the trace records no context
/// switches, so a burst of one task is placed where its CPU is quiet).
/// Irq-context events (a completion, the queue_work it issues) need no
/// quiet CPU: they run on top of whatever task the CPU was running.
struct CPUSchedule {
    let index: TraceIndex
    /// Source events the edit removed or moved away: they no longer occupy their CPU.
    var vacated: Set<Int> = []
    /// Intervals already given to injected bursts, per CPU.
    private var reserved: [Int: [(from: UInt64, to: UInt64, pid: Int32)]] = [:]

    init(_ index: TraceIndex) { self.index = index }

    /// Whether `cpu` runs nothing but `pid` (and irqs) during [from, to].
    func isQuiet(cpu: Int, from: UInt64, to: UInt64, for pid: Int32) -> Bool {
        for p in index.onCPU(cpu, from: from, to: to) where !vacated.contains(p) {
            let e = index.events[p]
            if e.pid != pid && !Self.isIrqContext(e) { return false }
        }
        for r in reserved[cpu] ?? [] where r.pid != pid && r.from <= to && r.to >= from { return false }
        return true
    }

    /// Whether task `pid` has nothing else to do during [from, to] (a task
    /// runs one thing at a time, on one CPU).
    func isFree(task pid: Int32, from: UInt64, to: UInt64) -> Bool {
        guard pid != 0 else { return true }
        for p in index.ofTask(pid, from: from, to: to) where !vacated.contains(p) { return false }
        for (_, list) in reserved { for r in list where r.pid == pid && r.from <= to && r.to >= from { return false } }
        return true
    }

    /// The earliest start ≥ `t` (in steps of `step`) at which `cpu` is quiet
    /// for `span`, searching up to `within` later.
    func quietStart(cpu: Int, from t: UInt64, span: UInt64, for pid: Int32, step: UInt64,
                    within: UInt64 = 200_000) -> UInt64? {
        var s = t
        while s <= t + within {
            if isQuiet(cpu: cpu, from: s, to: s + span, for: pid) { return s }
            s += max(step, 1)
        }
        return nil
    }

    /// The latest start ≤ `t` at which `cpu` is quiet for `span`.
    func quietStart(cpu: Int, before t: UInt64, span: UInt64, for pid: Int32, step: UInt64,
                    within: UInt64 = 200_000) -> UInt64? {
        var s = t
        while s + within >= t {
            if isQuiet(cpu: cpu, from: s, to: s + span, for: pid) { return s }
            if s < step { return nil }
            s -= max(step, 1)
        }
        return nil
    }

    mutating func reserve(cpu: Int, from: UInt64, to: UInt64, pid: Int32) {
        reserved[cpu, default: []].append((from, to, pid))
    }

    /// Completions and the work they queue run in irq context: on ksoftirqd,
    /// the idle task, or whatever task the irq interrupted.
    static func isIrqContext(_ e: TraceEvent) -> Bool {
        e.pid == 0 || e.comm.hasPrefix("ksoftirqd") || e.name == "block_rq_complete" || e.name == "block_bio_complete"
            || e.name == "workqueue_queue_work" || e.name == "workqueue_activate_work"
    }
}

/// The journal transaction a handle started at time `t` joins: the
/// running one, i.e. one past the last commit started before `t` (and no
/// older than any handle already seen), so moved handles keep tids in order.
func runningTransaction(at t: UInt64, dev: DeviceNumber, index: TraceIndex, fallback: UInt64) -> UInt64 {
    var latestHandle: UInt64?
    var lastCommit: UInt64?
    for i in index.journalEvents {
        guard index.events[i].timestamp <= t else { continue }
        switch index.typed[i] {
        case .jbd2(.handleStart(let d, let tid, _)) where d == dev: latestHandle = max(latestHandle ?? 0, tid)
        case .jbd2(.commit(.start, let d, let tid)) where d == dev: lastCommit = max(lastCommit ?? 0, tid)
        default: break
        }
    }
    let afterCommit = lastCommit.map { $0 + 1 }
    return max(latestHandle ?? 0, afterCommit ?? 0, latestHandle == nil && afterCommit == nil ? fallback : 0)
}
