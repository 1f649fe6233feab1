import CTrace
import Dispatch
import Glibc
import Synchronization

/// Reads the CPUs of one trace.dat buffer in parallel. libtracecmd's reading is
/// single-threaded per handle (one file offset, one page cache, one
/// decompression context), so every worker opens the file with a handle of its
/// own and takes whole CPUs from a shared counter.
enum DatParallelReading {
    /// How often (in records) a worker looks whether another one failed.
    private static let stopCheckInterval = 4096

    static func run<Sink: PerCPURecordSink>(
        primary: DatHandle, options: ReadOptions, renewalBytes: Int, sinks: [Sink]
    ) throws -> [Sink] {
        let cpuCount = sinks.count
        guard cpuCount > 0 else { return sinks }
        let slots = SinkSlots(sinks)
        let workers = min(cpuCount, max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
        let state = SharedState()
        // The caller blocks until every worker is done, so the primary handle
        // (this reader's own) is used by exactly one worker at a time.
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            do {
                let handle = worker == 0
                    ? primary
                    : try DatHandle(path: primary.path, buffer: primary.buffer)
                var decoder = DatRecordDecoder(tep: handle.tep, selection: options.fields)
                while !state.stop.load(ordering: .relaxed) {
                    let cpu = state.nextCPU.add(1, ordering: .relaxed).oldValue
                    guard cpu < cpuCount else { break }
                    try read(
                        cpu: cpu, handle: handle, renewalBytes: renewalBytes, decoder: &decoder,
                        sink: &slots.pointer[cpu], state: state)
                }
            } catch {
                state.fail(error)
            }
        }
        if let error = state.firstError { throw error }
        return slots.take()
    }

    private static func read<Sink: PerCPURecordSink>(
        cpu: Int, handle: DatHandle, renewalBytes: Int, decoder: inout DatRecordDecoder, sink: inout Sink,
        state: SharedState
    ) throws {
        var stream = DatCPUMerge(handle: handle, cpus: [cpu], renewalBytes: renewalBytes)
        defer { stream.release() }
        var sinceCheck = 0
        while let (record, _) = stream.next() {
            defer { tracecmd_free_record(record) }
            if let lost = DatReader.lostBefore(record, cpu: cpu) { try sink.consume(.lost(lost)) }
            try sink.consume(.event(decoder.decode(record, cpu: cpu)))
            sinceCheck += 1
            if sinceCheck == stopCheckInterval {
                sinceCheck = 0
                if state.stop.load(ordering: .relaxed) { return }
            }
        }
        if let error = stream.renewalError { throw error }
    }

    /// What the workers share: the next CPU to take and the first failure.
    private final class SharedState: Sendable {
        let nextCPU = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        private let error = Mutex<(any Error)?>(nil)

        func fail(_ failure: any Error) {
            error.withLock { if $0 == nil { $0 = failure } }
            stop.store(true, ordering: .relaxed)
        }

        var firstError: (any Error)? { error.withLock { $0 } }
    }

    /// One slot per CPU; each slot is written by the single worker that took
    /// that CPU, and read back after all workers finished.
    private final class SinkSlots<Sink>: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Sink>
        let count: Int

        init(_ sinks: [Sink]) {
            count = sinks.count
            pointer = .allocate(capacity: count)
            pointer.initialize(from: sinks, count: count)
        }

        func take() -> [Sink] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

        deinit {
            pointer.deinitialize(count: count)
            pointer.deallocate()
        }
    }
}
