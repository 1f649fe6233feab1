/// Receives the records of one CPU, in that CPU's own order, on one worker
/// thread. For consumers that need no global order (counts, histograms, per-CPU
/// statistics): readers can then decode every CPU in parallel.
///
/// A sink is made on the caller's thread, moved to a worker, fed, and handed
/// back; each sink is touched by one thread at a time, so a plain struct of
/// counters is enough.
public protocol PerCPURecordSink: Sendable {
    /// Called for every record of the sink's CPU; a throw stops every CPU and
    /// is rethrown to the caller of `forEachPerCPU`.
    mutating func consume(_ record: TraceRecord) throws
}
