import KernelEvents
import TraceIO

/// Compact per-object records kept while building; node indices are Int32
/// (-1: none) so that millions of objects stay small and class-free.
struct WorkRecord {
    var work: UInt64
    var function: Int32
    var queued: Int32 = -1
    var activated: Int32 = -1
    var started: Int32 = -1
    var ended: Int32 = -1
}

struct BioRecord {
    var queued: Int32
    var pid: Int32
    var dev: DeviceNumber
    var sector: UInt64
    var count: UInt64
    /// PREFLUSH or FUA: its request ends with a zero-length completion
    /// after the flush machinery ran (the request itself shows neither flag).
    var flushSequence: Bool
    /// Sectors already attributed to requests (a bio split into requests).
    var claimed: UInt64 = 0
    /// Sectors not yet completed.
    var remaining: UInt64
    var firstRequest: Int32 = -1
    var completed: Int32 = -1

    var range: SectorRange { SectorRange(dev: dev, sector: sector, count: count) }
}

struct RequestRecord {
    var inserted: Int32 = -1
    var issued: Int32 = -1
    var sector: UInt64
    var count: UInt64
    var preflushOrFUA: Bool
    var bios: [Int32] = []
    var last: Int32 { issued >= 0 ? issued : inserted }
}

/// An unwritten extent mapped for I/O (`ext4_ext_map_blocks_exit` with
/// PRE_IO and result U, or `ext4_ext_handle_unwritten_extents` PRE_IO when
/// the map events are not recorded).
struct SubmissionRecord {
    var node: Int32
    var pid: Int32
    var inode: Int32
    var fsDev: DeviceNumber
    var extent: ExtentRange
    var mapCall: UInt64
    /// Blocks already converted by CONVERT events.
    var converted: UInt64 = 0
    var bios: [Int32] = []
    var coveredSectors: UInt64 = 0
}

/// A CONVERT (`ext4_ext_handle_unwritten_extents` with CONVERT).
struct ConversionRecord {
    var node: Int32
    var pid: Int32
    var inode: Int32
    var extent: ExtentRange
    /// The work item executing on the task at the time, -1 when inline.
    var work: Int32
    var submissions: [Int32] = []
    var written: Int32 = -1
}

extension Int32 {
    static let none: Int32 = -1
}
