/// Where `DatPageWalker` puts the records it walks: an array, or a batch's
/// `DatRecordStore`.
protocol DatRecordSink {
    mutating func append(_ record: DatPageRecord)
}

extension Array: DatRecordSink where Element == DatPageRecord {}

/// A pipeline batch's records, in memory the store owns: a consumer that
/// holds the batch may read them through `base` (`DatPageMerge`), with no
/// reference counting per record.
///
/// Why: read as an array property of the batch (a class), every record the
/// merge looked at cost a dynamic exclusivity check, a retain and a release
/// of the array: about 5 % of `stats large.dat`'s wall time, on the reading
/// thread it waits for. Records are plain values (a payload pointer into
/// the batch's pages, numbers), so the memory is reused without
/// deinitialising them.
struct DatRecordStore: DatRecordSink {
    private(set) var base: UnsafeMutablePointer<DatPageRecord>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
        base = .allocate(capacity: self.capacity)
    }

    var isEmpty: Bool { count == 0 }

    subscript(index: Int) -> DatPageRecord {
        precondition(index >= 0 && index < count, "record index out of range")
        return base[index]
    }

    mutating func append(_ record: DatPageRecord) {
        if count == capacity {
            let grown = UnsafeMutablePointer<DatPageRecord>.allocate(capacity: capacity * 2)
            grown.moveInitialize(from: base, count: count)
            base.deallocate()
            base = grown
            capacity *= 2
        }
        (base + count).initialize(to: record)
        count += 1
    }

    /// Empties the store, keeping its memory for the next batch.
    mutating func removeAll() { count = 0 }

    /// Gives the memory back; the store is not used after.
    func deallocate() { base.deallocate() }
}
