import TraceIO

/// The lost windows met so far, on the model's thread: where an event a
/// replay step waits for (a CONVERT, a queueing) may be missing. Only
/// `.lost` records: a ring buffer's overwritten start is judged by the
/// verdicts (`TraceReliability`).
struct LossesSoFar: Sendable {
    private(set) var windows: [(cpu: Int, start: UInt64, end: UInt64)] = []
    /// Set on every event: by CPU in an array, not a hashed dictionary.
    private var lastByCPU = PerCPU<UInt64>()

    /// An event of the trace: the start of a later window on its CPU.
    mutating func observe(_ stamp: Stamp) {
        lastByCPU[stamp.cpu] = stamp.timestamp
    }

    /// A lost-events record, read after the events observed so far.
    mutating func add(_ lost: LostEvents) {
        let start = lastByCPU[lost.cpu] ?? 0
        // A record without a time may lie anywhere after the previous event.
        windows.append((lost.cpu, start, lost.timestamp ?? .max))
    }

    /// Whether events in (from, to] may have been lost.
    func lossAffecting(from: UInt64, to: UInt64) -> Bool {
        windows.contains { $0.start <= to && $0.end >= from }
    }
}
