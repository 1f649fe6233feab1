import Glibc

/// Records of some consecutive pages of one CPU, walked (`DatPageWalker`),
/// with the memory their payloads point into. Recycled: a pipeline keeps a
/// few and refills them.
final class DatRecordBatch: @unchecked Sendable {
    var records = DatRecordStore()
    /// The bytes of pages walked into it (uncompressed), for progress.
    var pageBytes = 0
    /// Where compressed pages were decompressed to (plain pages are read
    /// in the mapped file).
    let pages = DatPageBuffer()
    /// The bytes of the mapped file its plain pages were read in, handed
    /// back to the kernel when the batch is recycled.
    var mapped: Range<Int>?

    deinit { records.deallocate() }
}

/// Decodes the pages of several CPU streams on worker threads, ahead of a
/// consumer that takes each stream's batches in order (`DatPageMerge` for
/// global order, one stream at a time for a partition).
///
/// Memory is bounded: each stream has at most `depth` batches waiting, of
/// about `batchBytes` of pages each, and a batch comes back for reuse once
/// the consumer is done with it. Workers are plain threads, not Dispatch's:
/// the consumer blocks while it waits, and it may itself run on a Dispatch
/// worker (the replay reads on one). A consumer that finds its stream's next
/// batch neither ready nor under way makes it itself rather than wait.
final class DatPagePipeline: @unchecked Sendable {
    struct Walk: Sendable {
        var commitSize: Int
        var bigEndian: Bool
        var clock: DatClock
    }

    /// One per stream; a thread touches `sources[i]` only while it fills
    /// stream i. Not an array property: threads filling different streams
    /// at once would be overlapping accesses to it.
    private let sources: UnsafeMutablePointer<DatPageSource>
    let count: Int
    private let walk: Walk
    /// The file the sources read (one file per pipeline).
    private let file: DatFileMap?
    let depth: Int
    let batchBytes: Int
    // Under `mutex`: per stream, the batches ready, whether a thread is
    // filling one (it alone touches `sources[i]` meanwhile), whether it is
    // done, and its error; batches to reuse; whether to stop.
    private var ready: [[DatRecordBatch]]
    private var filling: [Bool]
    private var finished: [Bool]
    private var failure: [(any Error)?]
    private var spare: [DatRecordBatch] = []
    private var stopping = false
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var threads: [pthread_t] = []

    /// Starts `workers` threads over `sources` (none: the consumer does all).
    init(sources: [DatPageSource], walk: Walk, workers: Int) {
        count = sources.count
        self.sources = .allocate(capacity: count)
        self.sources.initialize(from: sources, count: count)
        self.walk = walk
        file = sources.first?.file
        depth = count <= 4 ? 4 : 2
        batchBytes = count <= 8 ? 256 << 10 : 64 << 10
        ready = Array(repeating: [], count: count)
        filling = Array(repeating: false, count: count)
        finished = sources.map(\.isFinished)
        failure = Array(repeating: nil, count: count)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
        for _ in 0..<min(workers, count) {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(self).toOpaque()
            if pthread_create(&thread, nil, { context in
                let pipeline = Unmanaged<DatPagePipeline>.fromOpaque(context!).takeRetainedValue()
                pipeline.work()
                return nil
            }, context) == 0 {
                threads.append(thread)
            } else {
                Unmanaged<DatPagePipeline>.fromOpaque(context).release()
            }
        }
    }

    deinit {
        for index in 0..<count { sources[index].close() }
        sources.deinitialize(count: count)
        sources.deallocate()
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// The next batch of stream `index`, in order; nil when it has no more.
    /// Rethrows what reading its pages threw, after its earlier batches.
    func next(_ index: Int) throws -> DatRecordBatch? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while ready[index].isEmpty {
            if finished[index] {
                if let error = failure[index] { throw error }
                return nil
            }
            if !filling[index] {
                fill(index)
                continue
            }
            pthread_cond_wait(changed, mutex)
        }
        let batch = ready[index].removeFirst()
        pthread_cond_broadcast(changed)
        return batch
    }

    /// Hands a batch back once nothing points into it any more.
    func recycle(_ batch: DatRecordBatch) {
        batch.records.removeAll()
        batch.pageBytes = 0
        if let mapped = batch.mapped, let file {
            // Plain pages are read once, as compressed ones (DatPageSource).
            file.release(mapped)
            batch.mapped = nil
        }
        pthread_mutex_lock(mutex)
        spare.append(batch)
        pthread_mutex_unlock(mutex)
    }

    /// Stops the workers and waits for them; the pipeline gives nothing after.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        threads = []
    }

    /// A worker: fills the stream with the fewest batches waiting, until
    /// every stream is done or the pipeline stops.
    private func work() {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !stopping {
            var chosen = -1
            for index in 0..<count where !filling[index] && !finished[index] && ready[index].count < depth {
                if chosen < 0 || ready[index].count < ready[chosen].count { chosen = index }
            }
            if chosen >= 0 {
                fill(chosen)
            } else if finished.allSatisfy({ $0 }) {
                return
            } else {
                pthread_cond_wait(changed, mutex)
            }
        }
    }

    /// Fills one batch of stream `index`: called with the mutex held, reads
    /// the pages without it.
    private func fill(_ index: Int) {
        filling[index] = true
        let batch = spare.popLast() ?? DatRecordBatch()
        pthread_mutex_unlock(mutex)
        var outcome: Result<Bool, any Error>
        do {
            var more = true
            // Pages without records (an idle CPU's) make no batch: read on.
            while more, batch.records.isEmpty {
                guard let pages = try sources[index].nextPages(targetBytes: batchBytes, buffer: batch.pages) else {
                    more = false
                    break
                }
                Self.walkPages(pages, pageSize: sources[index].stream.pageSize, walk: walk, into: &batch.records)
                batch.pageBytes += pages.count
                if let range = sources[index].file.range(of: pages) {
                    batch.mapped = batch.mapped.map { min($0.lowerBound, range.lowerBound)..<max($0.upperBound, range.upperBound) } ?? range
                }
                more = !sources[index].isFinished
            }
            outcome = .success(more)
        } catch {
            outcome = .failure(error)
        }
        pthread_mutex_lock(mutex)
        filling[index] = false
        if batch.records.isEmpty { spare.append(batch) } else { ready[index].append(batch) }
        switch outcome {
        case .success(let more): finished[index] = !more
        case .failure(let error):
            failure[index] = error
            finished[index] = true
        }
        pthread_cond_broadcast(changed)
    }

    static func walkPages(
        _ pages: UnsafeRawBufferPointer, pageSize: Int, walk: Walk, into records: inout some DatRecordSink
    ) {
        var start = 0
        while start + pageSize <= pages.count {
            DatPageWalker.walk(
                page: UnsafeRawBufferPointer(rebasing: pages[start..<(start + pageSize)]),
                commitSize: walk.commitSize, bigEndian: walk.bigEndian, clock: walk.clock, into: &records)
            start += pageSize
        }
    }
}
