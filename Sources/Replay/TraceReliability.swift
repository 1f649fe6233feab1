import TraceIO

/// What the trace can and cannot prove about ordering: where events were
/// lost, and whether timestamps of different CPUs can be compared.
///
/// Losses come in three forms (DOMAIN.md §3): a `.lost` record (text
/// `[LOST N EVENTS]`, trace.dat missed events) lies between the previous
/// event of its CPU and its timestamp; an overwritten ring buffer (text
/// header entries-written > entries-in-buffer, trace.dat per-CPU overrun
/// counts in `lostByCPU`) lost the oldest events, so everything before the
/// first retained event of such a CPU is unknown. A verdict whose window
/// overlaps either is inconclusive.
public struct TraceReliability: Sendable {
    public struct LostWindow: Hashable, Sendable {
        public var cpu: Int
        /// The loss lies in (start, end]: start is the previous event of that CPU.
        public var start: UInt64
        public var end: UInt64
        public var count: UInt64?
    }

    public private(set) var windows: [LostWindow] = []
    /// Events are missing before this time on some CPU (overwrite mode).
    public private(set) var overwriteHorizon: UInt64?
    public let overwrittenEvents: UInt64
    public let clock: String?
    /// Cross-CPU timestamps closer than this cannot order two events under a
    /// per-CPU clock. `local` is sched_clock per CPU: on hardware with
    /// synchronised TSCs CPUs agree to well under a microsecond, but the
    /// kernel does not promise it; 100 µs is an order of magnitude above the
    /// skew reported for unsynchronised TSCs after boot-time calibration,
    /// and below the gap between a bio completion and its conversion work.
    public let crossCPUBound: UInt64
    private var lastByCPU = PerCPU<UInt64>()
    private var overwrittenCPUs: Set<Int>
    private var overwriteAllCPUs: Bool

    public init(metadata: TraceMetadata, crossCPUBound: UInt64) {
        clock = metadata.clock
        self.crossCPUBound = crossCPUBound
        let written = metadata.entriesWritten ?? 0
        let inBuffer = metadata.entriesInBuffer ?? written
        let textOverwrite = written > inBuffer ? written - inBuffer : 0
        overwrittenEvents = textOverwrite + metadata.lostByCPU.values.reduce(0, +)
        overwrittenCPUs = Set(metadata.lostByCPU.filter { $0.value > 0 }.keys)
        // The text header does not say which CPU overwrote: assume all did.
        overwriteAllCPUs = textOverwrite > 0
    }

    /// Whether the clock orders events of different CPUs exactly.
    public var clockIsGlobal: Bool {
        guard let clock else { return false }
        return ["mono", "global", "mono_raw", "boot", "tai", "counter", "x86-tsc"].contains(clock)
    }

    public var lostEventCount: UInt64 {
        overwrittenEvents + windows.reduce(0) { $0 + ($1.count ?? 0) }
    }

    mutating func observe(cpu: Int, timestamp: UInt64) {
        if lastByCPU[cpu] == nil, overwriteAllCPUs || overwrittenCPUs.contains(cpu) {
            overwriteHorizon = max(overwriteHorizon ?? 0, timestamp)
        }
        lastByCPU[cpu] = timestamp
    }

    mutating func observe(_ lost: LostEvents) {
        let end = lost.timestamp ?? lastByCPU[lost.cpu] ?? 0
        windows.append(LostWindow(cpu: lost.cpu, start: lastByCPU[lost.cpu] ?? 0, end: end, count: lost.count))
        if lost.timestamp == nil {
            // Unknown position: from here on this CPU may miss anything.
            windows[windows.count - 1].end = .max
        }
    }

    /// Why events the verdict over [from, to] depends on may be missing, or nil.
    public func lossAffecting(from: UInt64, to: UInt64) -> String? {
        if let horizon = overwriteHorizon, from <= horizon {
            return "the ring buffer overwrote \(overwrittenEvents) events before \(formatTime(horizon)) s, and this window starts at \(formatTime(from)) s"
        }
        for w in windows where w.start <= to && w.end >= from {
            let n = w.count.map { "\($0)" } ?? "an unknown number of"
            return "\(n) events were lost on CPU \(w.cpu) between \(formatTime(w.start)) s and \(formatTime(w.end)) s, inside this window"
        }
        return nil
    }

    /// Why two events cannot be ordered by their timestamps, or nil.
    public func clockAmbiguity(_ a: (ts: UInt64, cpu: Int), _ b: (ts: UInt64, cpu: Int)) -> String? {
        guard !clockIsGlobal, a.cpu != b.cpu else { return nil }
        let gap = a.ts > b.ts ? a.ts - b.ts : b.ts - a.ts
        guard gap < crossCPUBound else { return nil }
        let name = clock.map { "the per-CPU clock '\($0)'" } ?? "an unknown (possibly per-CPU) trace clock"
        return "the deciding events are on CPUs \(a.cpu) and \(b.cpu), \(gap / 1000) µs apart, under \(name): closer than \(crossCPUBound / 1000) µs cannot be ordered"
    }
}

func formatTime(_ ns: UInt64) -> String {
    let us = ns / 1000
    let frac = String(us % 1_000_000)
    return "\(us / 1_000_000)." + String(repeating: "0", count: 6 - frac.count) + frac
}
