/// Merges the record streams of a pipeline's CPUs into global timestamp
/// order with the rule of `DatCPUMerge` (and libtracecmd's
/// `tracecmd_read_next_data`): the stream whose next record has the smallest
/// timestamp goes first, the lower CPU on equal timestamps, each CPU's own
/// order kept. Holds the batch each stream is in; a heap on (timestamp, CPU)
/// picks the next one.
struct DatPageMerge {
    private let pipeline: DatPagePipeline
    /// Per stream: its CPU, its current batch and position in it.
    private let cpus: [Int]
    private var batches: [DatRecordBatch?]
    private var positions: [Int]
    /// Per stream: its current batch's records (the batch holds them) and their count.
    private var records: [UnsafePointer<DatPageRecord>?]
    private var counts: [Int]
    /// Streams with a record left, as a binary min-heap on (timestamp, stream
    /// index; streams are in CPU order).
    private var heap: [Int] = []
    private var heads: [UInt64]
    /// The stream of the record `next()` returned last, advanced on the next call.
    private var pending = -1
    /// The bytes of pages (uncompressed) of the batches already passed.
    private(set) var bytesPassed: UInt64 = 0

    /// `cpus[i]` is the CPU of the pipeline's stream i, in increasing order.
    init(pipeline: DatPagePipeline, cpus: [Int]) throws {
        self.pipeline = pipeline
        self.cpus = cpus
        batches = Array(repeating: nil, count: cpus.count)
        positions = Array(repeating: 0, count: cpus.count)
        heads = Array(repeating: 0, count: cpus.count)
        records = Array(repeating: nil, count: cpus.count)
        counts = Array(repeating: 0, count: cpus.count)
        for index in cpus.indices {
            if let batch = try pipeline.next(index) {
                hold(batch, in: index)
                push(index)
            }
        }
    }

    /// The next record in global order and its CPU; the record's payload stays
    /// valid until the following call. Rethrows a stream's reading error
    /// where its records end.
    mutating func next() throws -> (record: DatPageRecord, cpu: Int)? {
        if pending >= 0 { try advance(pending) }
        guard let top = heap.first else {
            pending = -1
            return nil
        }
        pending = top
        return (records[top].unsafelyUnwrapped[positions[top]], cpus[top])
    }

    /// Hands back the batches still held (after the last record or an early stop).
    mutating func release() {
        for index in batches.indices {
            records[index] = nil
            counts[index] = 0
            if let batch = batches[index] { pipeline.recycle(batch) }
            batches[index] = nil
        }
        heap.removeAll()
        pending = -1
    }

    /// Moves stream `index` (the heap's top) past its current record.
    private mutating func advance(_ index: Int) throws {
        positions[index] += 1
        if positions[index] < counts[index] {
            heads[index] = records[index].unsafelyUnwrapped[positions[index]].timestamp
            siftDown(0)
            return
        }
        let batch = batches[index].unsafelyUnwrapped
        bytesPassed += UInt64(batch.pageBytes)
        records[index] = nil
        counts[index] = 0
        batches[index] = nil
        pipeline.recycle(batch)
        positions[index] = 0
        if let following = try pipeline.next(index) {
            hold(following, in: index)
            siftDown(0)
        } else {
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                siftDown(0)
            }
        }
    }

    /// Makes `batch` (not empty: the pipeline hands on no empty batch) stream `index`'s current one.
    private mutating func hold(_ batch: DatRecordBatch, in index: Int) {
        batches[index] = batch
        records[index] = UnsafePointer(batch.records.base)
        counts[index] = batch.records.count
        heads[index] = batch.records[0].timestamp
    }

    @inline(__always)
    private func less(_ a: Int, _ b: Int) -> Bool {
        heads[a] < heads[b] || (heads[a] == heads[b] && a < b)
    }

    private mutating func push(_ index: Int) {
        heap.append(index)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = heap.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var smallest = left
            if left + 1 < count, less(heap[left + 1], heap[left]) { smallest = left + 1 }
            guard less(heap[smallest], heap[parent]) else { return }
            heap.swapAt(smallest, parent)
            parent = smallest
        }
    }
}
