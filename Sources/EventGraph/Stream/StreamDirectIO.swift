import KernelEvents
import TraceIO

/// 7.x direct I/O into unwritten space maps nothing: `ext4_iomap_begin`
/// finds the unwritten extent in the extent-status cache
/// (`ext4_es_lookup_extent_exit` found, status U) and the task queues its
/// bio over those blocks; the conversion follows at the I/O's end. Up to
/// 6.x the same write maps the extent with PRE_IO (`ext4_iomap_alloc`).
struct FoundUnwritten {
    var stamp: StreamStamp
    var inode: InodeID
    var fs: DeviceNumber
    var extent: ExtentRange
}

extension GraphStream {
    /// A lookup by `s.pid` found an unwritten extent: the extent a write bio
    /// of that task, with no extent mapped for it, carries.
    mutating func foundUnwritten(_ s: StreamStamp, inode: InodeID, fs: DeviceNumber, extent: ExtentRange) {
        guard extent.pblk > 0, extent.len > 0 else { return }
        extents.foundUnwritten[s.pid] = FoundUnwritten(stamp: s, inode: inode, fs: fs, extent: extent)
    }

    /// The task's write bio carried no extent it mapped: if its last lookup
    /// found an unwritten extent under the bio's sectors, the blocks the bio
    /// covers were submitted from that lookup.
    mutating func submitFoundUnwritten(_ found: FoundUnwritten, toBio bio: Int, _ range: SectorRange) -> [Int] {
        guard let g = geometry.geometry(of: found.fs), g.diskDevice == range.dev else { return [] }
        let sectors = g.sectors(pblk: found.extent.pblk, len: found.extent.len)
        let start = max(sectors.sector, range.sector), end = min(sectors.sector + sectors.count, range.sector + range.count)
        guard start < end else { return [] }
        let first = (start - sectors.sector) / g.sectorsPerBlock
        let last = (end - sectors.sector + g.sectorsPerBlock - 1) / g.sectorsPerBlock
        let covered = ExtentRange(lblk: found.extent.lblk + first, pblk: found.extent.pblk + first, len: last - first)
        submit(found.stamp, inode: found.inode, fs: found.fs, extent: covered, provisional: false)
        return linkSubmissions(toBio: bio, range, pid: found.stamp.pid)
    }
}
