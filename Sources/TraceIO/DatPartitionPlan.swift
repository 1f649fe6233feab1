import CTrace

/// Splits the CPUs of a trace.dat buffer into page-aligned ranges of about the
/// same size, so that parallel workers stay busy even when one CPU recorded
/// most of the events (a single fio job pins most I/O to one CPU).
///
/// A range starts at a ring-buffer page: every page carries its own base
/// timestamp and lost-events flag, so a reader started there decodes exactly
/// what a reader that came from the CPU's first page would.
struct DatPartitionPlan {
    struct Range: Sendable {
        let partition: TracePartition
        /// The page the range begins at; nil: the CPU's first record.
        let start: UInt64?
        /// The page where the next range begins; nil: the end of the CPU.
        let end: UInt64?
    }

    /// Parts per worker: more than one evens out uneven page contents.
    static let partsPerWorker = 4
    /// Below this, splitting costs more than it gains.
    static let minimumBytes: UInt64 = 1 << 20

    let ranges: [Range]

    /// One range per CPU.
    static func perCPU(cpuCount: Int) -> DatPartitionPlan {
        DatPartitionPlan(ranges: (0..<cpuCount).map {
            Range(partition: TracePartition(cpu: $0, index: 0), start: nil, end: nil)
        })
    }

    /// Ranges of about `total / (workers * partsPerWorker)` bytes.
    static func balanced(handle: DatHandle, workers: Int, minimumBytes: UInt64 = minimumBytes) -> DatPartitionPlan {
        let pageSize = UInt64(max(1, tracecmd_page_size(handle.data)))
        var extents: [(cpu: Int, start: UInt64, size: UInt64)] = []
        for cpu in 0..<handle.cpuCount {
            guard let first = handle.first(cpu: cpu) else { continue }
            let start = first.pointee.offset & ~(pageSize - 1)
            tracecmd_free_record(first)
            let size = tracecmd_get_cpu_file_size(handle.data, Int32(cpu))
            extents.append((cpu, start, size > 0 ? UInt64(size) : 0))
        }
        let total = extents.reduce(0) { $0 + $1.size }
        let target = UInt64(max(1, workers * partsPerWorker))
        var part = max(minimumBytes, (total + target - 1) / target)
        part = (part + pageSize - 1) / pageSize * pageSize
        var ranges: [Range] = []
        for extent in extents {
            let count = max(1, Int((extent.size + part - 1) / part))
            for index in 0..<count {
                let start = index == 0 ? nil : extent.start + UInt64(index) * part
                let end = index == count - 1 ? nil : extent.start + UInt64(index + 1) * part
                ranges.append(Range(partition: TracePartition(cpu: extent.cpu, index: index), start: start, end: end))
            }
        }
        return DatPartitionPlan(ranges: ranges)
    }
}
