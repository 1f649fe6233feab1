import CTrace

/// Merges the record streams of some CPUs of one handle into global timestamp
/// order. Each CPU's stream is already ordered; on equal timestamps the lower
/// CPU goes first, which is also what libtracecmd's `tracecmd_read_next_data`
/// (and so `trace-cmd report`) does. Holds one record per CPU, and renews the
/// handle's data every `renewalBytes` of records on compressed files (see
/// `DatHandle`), so memory does not depend on the file size.
struct DatCPUMerge {
    /// Records between two renewals of a compressed file's data handle: large
    /// enough that renewal (cheap for an instance, one re-open for the top
    /// level) is rare, small enough to bound libtracecmd's chunk cache.
    static let defaultRenewalBytes = 64 << 20

    let handle: DatHandle
    private let cpus: [Int]
    private var heads: [UnsafeMutablePointer<tep_record>?]
    private let renewalBytes: Int
    private var bytesSinceRenewal = 0
    /// Set when the data handle could not be renewed: the remaining records
    /// are unreadable and the caller reports it.
    private(set) var renewalError: (any Error)?

    /// Starts each of `cpus` (default: all) at its first record.
    init(handle: DatHandle, cpus: [Int]? = nil, renewalBytes: Int = DatCPUMerge.defaultRenewalBytes) {
        self.handle = handle
        self.cpus = cpus ?? Array(0..<handle.cpuCount)
        self.renewalBytes = max(1, renewalBytes)
        heads = self.cpus.map { handle.first(cpu: $0) }
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
        heads[best] = handle.next(cpu: cpu)
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
