import TraceIO

/// A trace event decoded into what the kernel did, by subsystem. Events the
/// decoder does not know, or whose format lacks a field it needs, stay
/// `.other` (with a `Diagnostic` for the latter), never a half-filled value.
public enum KernelEvent: Sendable {
    case ext4(Ext4Event)
    case writeback(WritebackEvent)
    case filemap(FilemapEvent)
    case block(BlockEvent)
    case workqueue(WorkqueueEvent)
    case jbd2(JBD2Event)
    case sched(SchedEvent)
    case syscall(SyscallEvent)
    case other(TraceEvent)
}

/// The inode an ext4 event is about, before generations are assigned.
public typealias InodeRef = InodeKey

/// ext4 tracepoints (include/trace/events/ext4.h, 6.18).
public enum Ext4Event: Sendable, Equatable {
    /// `ext4_da_write_begin` / `ext4_write_begin`: a buffered write of `len` bytes at `pos`.
    case writeBegin(InodeRef, pos: UInt64, len: UInt64)
    /// `ext4_da_write_end` / `ext4_write_end`.
    case writeEnd(InodeRef, pos: UInt64, len: UInt64, copied: UInt64)
    /// `ext4_writepages`: `sync_mode` 1 is WB_SYNC_ALL (fsync, sync).
    case writepages(InodeRef, syncMode: Int64)
    case writepagesResult(InodeRef, ret: Int64)
    /// `ext4_da_write_folios_start`: one iteration of `ext4_do_writepages`,
    /// which is one io_end (research §4.3). Also `ext4_da_write_pages` of
    /// kernels up to 6.17, the same point named by its first page
    /// (`startPos` = first_page × 4096).
    case writeFoliosStart(InodeRef, startPos: UInt64, syncMode: Int64)
    case writeFoliosEnd(InodeRef, startPos: UInt64, ret: Int64)
    /// `ext4_da_write_pages_extent`: the extent mpage is about to map.
    case writePagesExtent(InodeRef, lblk: UInt64, len: UInt64, flags: MapResultFlags)
    case mapBlocksEnter(InodeRef, lblk: UInt64, len: UInt64, flags: MapFlags)
    case mapBlocksExit(InodeRef, flags: MapFlags, extent: ExtentRange, result: MapResultFlags, ret: Int64)
    /// `ext4_ext_handle_unwritten_extents`; `flags` says PRE_IO (writing into
    /// unwritten space) or CONVERT (end-of-I/O conversion).
    case handleUnwritten(InodeRef, flags: MapFlags, extent: ExtentRange)
    case extentStatusInsert(InodeRef, extent: ExtentRange, status: ExtentStatus)
    /// `ext4_es_lookup_extent_exit`: the extent-status cache answered a
    /// lookup (`found`). 7.x DIO finds its unwritten extent here and maps
    /// nothing before it queues the bio.
    case extentStatusLookup(InodeRef, extent: ExtentRange, status: ExtentStatus, found: Bool)
    /// `ext4_journal_start_reserved`: no inode; `caller` is the symbol
    /// (`ext4_convert_unwritten_io_end_vec+0x2d/0x100`) when the source resolved it.
    case journalStartReserved(dev: DeviceNumber, blocks: Int64, caller: String?)
    case syncFileEnter(InodeRef, datasync: Bool)
    case syncFileExit(InodeRef, ret: Int64)
    case truncateEnter(InodeRef)
    case truncateExit(InodeRef)
    case fallocateEnter(InodeRef, offset: Int64, len: Int64, mode: Int64)
    case fallocateExit(InodeRef, ret: Int64)
    case punchHole(InodeRef, offset: Int64, len: Int64)
    case zeroRange(InodeRef, offset: Int64, len: Int64)
    case collapseRange(InodeRef, offset: Int64, len: Int64)
    case insertRange(InodeRef, offset: Int64, len: Int64)
    case removeSpace(InodeRef, start: UInt64, end: UInt64)
    /// `ext4_read_folio` (6.x) / `ext4_readpage` (older): a read through read_folio.
    case readFolio(InodeRef, index: UInt64)
    /// `ext4_release_folio` / `ext4_releasepage`.
    case releaseFolio(InodeRef, index: UInt64)
    /// `ext4_invalidate_folio` / `ext4_invalidatepage`.
    case invalidateFolio(InodeRef, index: UInt64, offset: UInt64, length: UInt64)
    case evictInode(InodeRef, nlink: Int64)
    case freeInode(InodeRef)
    case allocateInode(InodeRef)

    /// The inode the event names, if any.
    public var inode: InodeRef? {
        switch self {
        case .writeBegin(let i, _, _), .writeEnd(let i, _, _, _), .writepages(let i, _),
             .writepagesResult(let i, _), .writeFoliosStart(let i, _, _), .writeFoliosEnd(let i, _, _),
             .writePagesExtent(let i, _, _, _), .mapBlocksEnter(let i, _, _, _),
             .mapBlocksExit(let i, _, _, _, _), .handleUnwritten(let i, _, _),
             .extentStatusInsert(let i, _, _), .extentStatusLookup(let i, _, _, _), .syncFileEnter(let i, _), .syncFileExit(let i, _),
             .truncateEnter(let i), .truncateExit(let i), .fallocateEnter(let i, _, _, _),
             .fallocateExit(let i, _), .punchHole(let i, _, _), .zeroRange(let i, _, _),
             .collapseRange(let i, _, _), .insertRange(let i, _, _), .removeSpace(let i, _, _),
             .evictInode(let i, _), .freeInode(let i), .allocateInode(let i), .readFolio(let i, _),
             .releaseFolio(let i, _), .invalidateFolio(let i, _, _, _):
            return i
        case .journalStartReserved:
            return nil
        }
    }
}

/// writeback tracepoints (include/trace/events/writeback.h). The folio
/// events name the backing device by its bdi name ("7:0"), not by `s_dev`.
public enum WritebackEvent: Sendable, Equatable {
    /// `writeback_dirty_folio` (6.x) / `writeback_dirty_page` (older): clean → dirty.
    case dirtyFolio(bdi: String, ino: UInt64, index: UInt64)
    /// `folio_wait_writeback` / `wait_on_page_writeback`: a task waits for PG_writeback.
    case waitOnWriteback(bdi: String, ino: UInt64, index: UInt64)
    /// `sb_mark_inode_writeback`: the inode's first folio went under writeback.
    case markInodeWriteback(InodeRef)
    /// `sb_clear_inode_writeback`: the inode's last writeback folio ended.
    case clearInodeWriteback(InodeRef)
}

/// filemap tracepoints (include/trace/events/filemap.h). `index` is in pages.
public enum FilemapEvent: Sendable, Equatable {
    case addToPageCache(InodeRef, index: UInt64, order: UInt8)
    case deleteFromPageCache(InodeRef, index: UInt64, order: UInt8)
    case fault(InodeRef, index: UInt64)
    case getPages(InodeRef, index: UInt64, lastIndex: UInt64)
}

/// A block I/O as block events print it: whole-disk device, absolute sector.
public struct BlockIO: Hashable, Sendable {
    public var range: SectorRange
    public var rwbs: RWBS

    public init(range: SectorRange, rwbs: RWBS) {
        self.range = range
        self.rwbs = rwbs
    }
}

/// block tracepoints (include/trace/events/block.h).
public enum BlockEvent: Sendable, Equatable {
    case bioQueue(BlockIO)
    /// `block_bio_remap`: a bio moved from a partition to its disk.
    case bioRemap(BlockIO, from: SectorRange)
    case requestInsert(BlockIO)
    case requestIssue(BlockIO)
    case requestComplete(BlockIO, error: Int64)
    /// `block_bio_complete`: only bio-based stacks (dm, md) emit it.
    case bioComplete(BlockIO, error: Int64)

    public var io: BlockIO {
        switch self {
        case .bioQueue(let io), .bioRemap(let io, _), .requestInsert(let io), .requestIssue(let io),
             .requestComplete(let io, _), .bioComplete(let io, _):
            return io
        }
    }
}

/// workqueue tracepoints (include/trace/events/workqueue.h).
public enum WorkqueueEvent: Sendable, Equatable {
    case queue(WorkKey, workqueue: String?)
    case activate(WorkKey)
    case executeStart(WorkKey)
    case executeEnd(WorkKey)

    public var key: WorkKey {
        switch self {
        case .queue(let k, _), .activate(let k), .executeStart(let k), .executeEnd(let k): return k
        }
    }
}

/// jbd2 tracepoints (include/trace/events/jbd2.h).
public enum JBD2Event: Sendable, Equatable {
    public enum CommitPhase: String, Sendable { case start, locking, flushing, logging, end }
    /// `jbd2_start_commit` … `jbd2_end_commit` of transaction `tid`.
    case commit(CommitPhase, dev: DeviceNumber, tid: UInt64)
    /// `jbd2_handle_start`: `type` 11 is EXT4_HT_EXT_CONVERT.
    case handleStart(dev: DeviceNumber, tid: UInt64, type: Int64)
}

/// scheduler tracepoints.
public enum SchedEvent: Sendable, Equatable {
    /// `sched_wakeup` / `sched_wakeup_new`.
    case wakeup(pid: Int32)
    case switchTask(prevPid: Int32, nextPid: Int32)
}
