import CTrace
import Dispatch
import Glibc
import Synchronization

/// Reads the CPUs of one trace.dat buffer in parallel. libtracecmd's reading is
/// single-threaded per handle (one file offset, one page cache, one
/// decompression context), so every worker opens the file with a handle of its
/// own and takes partitions (whole CPUs or page ranges of one, see
/// `DatPartitionPlan`) from a shared counter.
enum DatParallelReading {
    /// How often (in records) a worker looks whether another one failed.
    private static let stopCheckInterval = 4096

    /// Returns the filled sinks and the number of damaged records skipped
    /// (see `DatRecordDecoder.decode`).
    static func run<Sink: PerCPURecordSink>(
        primary: DatHandle, plan: DatPartitionPlan, options: ReadOptions, renewalBytes: Int?, sinks: [Sink]
    ) throws -> (sinks: [Sink], damaged: Int) {
        let count = sinks.count
        precondition(count == plan.ranges.count, "one sink per partition")
        guard count > 0 else { return (sinks, 0) }
        let slots = PartSlots(sinks)
        let workers = min(count, workerCount)
        let state = SharedState()
        // The caller blocks until every worker is done, so the primary handle
        // (this reader's own) is used by exactly one worker at a time.
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            do {
                let handle = worker == 0
                    ? primary
                    : try DatHandle(path: primary.path, buffer: primary.buffer)
                var decoder = DatRecordDecoder(tep: handle.tep, selection: options.fields, pageSize: handle.pageSize)
                while !state.stop.load(ordering: .relaxed) {
                    let next = state.nextPart.add(1, ordering: .relaxed).oldValue
                    guard next < count else { break }
                    try read(
                        plan.ranges[next], handle: handle, renewalBytes: renewalBytes, decoder: &decoder,
                        sink: &slots.pointer[next], state: state)
                }
            } catch {
                state.fail(error)
            }
        }
        if let error = state.firstError { throw error }
        return (slots.take(), state.damaged.load(ordering: .relaxed))
    }

    /// The same over the pages directly (`DatPageReading`): the workers
    /// share this reader's formats (`tep`; decoders take `DatRecordDecoder`'s
    /// lock for what they look up in it) and read their parts' pages each.
    static func run<Sink: PerCPURecordSink>(
        pages: DatPageReading, parts: [DatPageReading.Part], tep: OpaquePointer, options: ReadOptions, sinks: [Sink]
    ) throws -> (sinks: [Sink], damaged: Int) {
        let count = sinks.count
        precondition(count == parts.count, "one sink per partition")
        guard count > 0 else { return (sinks, 0) }
        let slots = PartSlots(sinks)
        let state = SharedState()
        let shared = SharedTep(tep)
        DispatchQueue.concurrentPerform(iterations: min(count, workerCount)) { _ in
            var decoder = DatRecordDecoder(tep: shared.tep, selection: options.fields, pageSize: pages.pageSize)
            let buffer = DatPageBuffer()
            var records: [DatPageRecord] = []
            do {
                while !state.stop.load(ordering: .relaxed) {
                    let next = state.nextPart.add(1, ordering: .relaxed).oldValue
                    guard next < count else { break }
                    guard let units = parts[next].units else { continue }
                    let cpu = parts[next].partition.cpu
                    var source = DatPageSource(
                        stream: pages.streams[cpu]!, file: pages.file, compression: pages.compression, units: units)
                    defer { source.close() }
                    while !state.stop.load(ordering: .relaxed),
                          let block = try source.nextPages(targetBytes: 256 << 10, buffer: buffer) {
                        records.removeAll(keepingCapacity: true)
                        DatPagePipeline.walkPages(block, pageSize: source.stream.pageSize, walk: pages.walk, into: &records)
                        for record in records {
                            if record.missed != 0 { try slots.pointer[next].consume(.lost(DatPageReading.lost(record, cpu: cpu))) }
                            if let event = decoder.decode(record, cpu: cpu) {
                                try slots.pointer[next].consume(.event(event))
                            } else {
                                state.damaged.add(1, ordering: .relaxed)
                            }
                        }
                    }
                }
            } catch {
                state.fail(error)
            }
        }
        if let error = state.firstError { throw error }
        return (slots.take(), state.damaged.load(ordering: .relaxed))
    }

    /// A reader's formats handed to the workers (see `run(pages:…)`).
    private final class SharedTep: @unchecked Sendable {
        let tep: OpaquePointer
        init(_ tep: OpaquePointer) { self.tep = tep }
    }

    private static func read<Sink: PerCPURecordSink>(
        _ range: DatPartitionPlan.Range, handle: DatHandle, renewalBytes: Int?, decoder: inout DatRecordDecoder,
        sink: inout Sink, state: SharedState
    ) throws {
        let cpu = range.partition.cpu
        var stream = DatCPUMerge(handle: handle, range: range, renewalBytes: renewalBytes)
        defer { stream.release() }
        var sinceCheck = 0
        while let (record, _) = stream.next() {
            defer { tracecmd_free_record(record) }
            if let lost = DatReader.lostBefore(record, cpu: cpu) { try sink.consume(.lost(lost)) }
            if let event = decoder.decode(record, cpu: cpu) {
                try sink.consume(.event(event))
            } else {
                state.damaged.add(1, ordering: .relaxed)
            }
            sinceCheck += 1
            if sinceCheck == stopCheckInterval {
                sinceCheck = 0
                if state.stop.load(ordering: .relaxed) { return }
            }
        }
        if let error = stream.renewalError { throw error }
    }

    /// The threads worth starting: one per online core.
    static var workerCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// What the workers share: the next partition to take and the first failure.
    private final class SharedState: Sendable {
        let nextPart = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let damaged = Atomic<Int>(0)
        private let error = Mutex<(any Error)?>(nil)

        func fail(_ failure: any Error) {
            error.withLock { if $0 == nil { $0 = failure } }
            stop.store(true, ordering: .relaxed)
        }

        var firstError: (any Error)? { error.withLock { $0 } }
    }
}
