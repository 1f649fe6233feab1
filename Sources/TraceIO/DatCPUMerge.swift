import CTrace

/// Merges the record streams of some CPUs of one handle into global timestamp
/// order. Each CPU's stream is already ordered; on equal timestamps the lower
/// CPU goes first, which is also what libtracecmd's `tracecmd_read_next_data`
/// (and so `trace-cmd report`) does. Holds one record per CPU, and renews the
/// handle's data every `renewalBytes` of records on compressed files (see
/// `DatHandle`), so memory does not depend on the file size.
struct DatCPUMerge {
    /// Record bytes between two renewals of a compressed file's data handle,
    /// which bounds libtracecmd's chunk cache. Renewing an instance is cheap
    /// (a new instance handle shares the parsed formats); renewing the top
    /// level re-opens the file (~0.15 s with 5 MB of kallsyms), so it is rarer.
    static func defaultRenewalBytes(for buffer: DatHandle.Buffer) -> Int {
        switch buffer {
        case .instance: return 16 << 20
        case .topLevel: return 128 << 20
        }
    }

    let handle: DatHandle
    private let cpus: [Int]
    private var heads: [UnsafeMutablePointer<tep_record>?]
    /// Per slot, the offset where the stream stops (a partition's end).
    private let ends: [UInt64?]
    private let renewalBytes: Int
    private var bytesSinceRenewal = 0
    /// Set when the data handle could not be renewed: the remaining records
    /// are unreadable and the caller reports it.
    private(set) var renewalError: (any Error)?

    /// Per slot, where the CPU's data begins (its first page) and how many
    /// bytes it has: what `fractionRead` measures the heads against.
    private var extents: [(start: UInt64, size: UInt64)] = []

    /// Starts each of `cpus` (default: all) at its first record.
    init(handle: DatHandle, cpus: [Int]? = nil, renewalBytes: Int? = nil) {
        self.handle = handle
        self.cpus = cpus ?? Array(0..<handle.cpuCount)
        self.renewalBytes = max(1, renewalBytes ?? DatCPUMerge.defaultRenewalBytes(for: handle.buffer))
        heads = self.cpus.map { handle.first(cpu: $0) }
        ends = self.cpus.map { _ in nil }
        let pageSize = UInt64(max(1, tracecmd_page_size(handle.data)))
        extents = zip(self.cpus, heads).map { cpu, head in
            let size = tracecmd_get_cpu_file_size(handle.data, Int32(cpu))
            return (head.map { $0.pointee.offset & ~(pageSize - 1) } ?? 0, size > 0 ? UInt64(size) : 0)
        }
    }

    /// How much of the CPUs' data lies behind the records held (as
    /// `DatPartitionPlan` measures it: page offsets against each CPU's size);
    /// nil when the sizes are unknown.
    var fractionRead: Double? {
        guard extents.count == heads.count else { return nil }
        var done: UInt64 = 0, total: UInt64 = 0
        for slot in heads.indices {
            let (start, size) = extents[slot]
            total += size
            if let head = heads[slot] {
                done += min(size, head.pointee.offset >= start ? head.pointee.offset - start : 0)
            } else {
                done += size
            }
        }
        return total > 0 ? Double(done) / Double(total) : nil
    }

    /// The records of one partition: from its start page (or the CPU's first
    /// record) to the page where the next partition starts.
    init(handle: DatHandle, range: DatPartitionPlan.Range, renewalBytes: Int? = nil) {
        self.handle = handle
        let cpu = range.partition.cpu
        cpus = [cpu]
        self.renewalBytes = max(1, renewalBytes ?? DatCPUMerge.defaultRenewalBytes(for: handle.buffer))
        ends = [range.end]
        heads = [range.start.map { handle.record(cpu: cpu, at: $0) } ?? handle.first(cpu: cpu)]
        heads[0] = limited(heads[0], slot: 0)
    }

    /// `record`, or nil (freeing it) when it lies past the slot's end.
    private func limited(_ record: UnsafeMutablePointer<tep_record>?, slot: Int) -> UnsafeMutablePointer<tep_record>? {
        guard let record, let end = ends[slot], record.pointee.offset >= end else { return record }
        tracecmd_free_record(record)
        return nil
    }

    /// The next record in global order and its CPU. The caller owns the record
    /// and must free it (`tracecmd_free_record`) before calling `next()` again.
    mutating func next() -> (UnsafeMutablePointer<tep_record>, Int)? {
        if handle.isCompressed, bytesSinceRenewal >= renewalBytes { renew() }
        var best = -1
        var bestTimestamp: UInt64 = 0
        for slot in heads.indices {
            guard let record = heads[slot] else { continue }
            if best < 0 || record.pointee.ts < bestTimestamp {
                best = slot
                bestTimestamp = record.pointee.ts
            }
        }
        guard best >= 0, let record = heads[best] else { return nil }
        let cpu = cpus[best]
        heads[best] = limited(handle.next(cpu: cpu), slot: best)
        bytesSinceRenewal += Int(record.pointee.record_size)
        return (record, cpu)
    }

    /// Frees the records still held (after an early stop).
    mutating func release() {
        for slot in heads.indices {
            if let record = heads[slot] { tracecmd_free_record(record) }
            heads[slot] = nil
        }
    }

    /// Swaps in a fresh data handle and re-reads each CPU's pending record at
    /// its offset, so the stream continues exactly where it was.
    private mutating func renew() {
        bytesSinceRenewal = 0
        let offsets = heads.map { $0?.pointee.offset }
        release()
        do {
            try handle.renewData()
        } catch {
            renewalError = error
            return
        }
        for slot in heads.indices {
            guard let offset = offsets[slot] else { continue }
            heads[slot] = handle.record(cpu: cpus[slot], at: offset)
            if heads[slot] == nil {
                renewalError = TraceError.corrupt(
                    path: handle.path, reason: "cannot find the record at offset \(offset) of CPU \(cpus[slot]) again")
            }
        }
    }
}
