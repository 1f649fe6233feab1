/// Receives the records of one part of a trace — one CPU's stream or part
/// of it (`DatReader.forEachPerCPU`, `forEachPartition`), a run of lines of a
/// text trace (`TextReader.forEachPart`) — in their order, on one worker
/// thread. For consumers that need no global order (counts, histograms,
/// per-CPU statistics): readers can then decode the parts in parallel.
///
/// A sink is made on the caller's thread, moved to a worker, fed, and handed
/// back; each sink is touched by one thread at a time, so a plain struct of
/// counters is enough.
public protocol PerCPURecordSink: Sendable {
    /// Called for every record of the sink's CPU; a throw stops every CPU and
    /// is rethrown to the caller of `forEachPerCPU`.
    mutating func consume(_ record: TraceRecord) throws
}

/// One slot per part of a parallel read: each slot is written by the one
/// worker that took that part, and read back after every worker is done.
/// A buffer rather than an array property, so that workers writing
/// different slots at once are not overlapping accesses to one property.
final class PartSlots<Element>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    init(_ elements: [Element]) {
        count = elements.count
        pointer = .allocate(capacity: count)
        pointer.initialize(from: elements, count: count)
    }

    func take() -> [Element] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    deinit {
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }
}
