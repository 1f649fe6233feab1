import TraceIO

// What a blocker is called where it blocks: the same lock or wait reads
// differently in the kernel function refused ("folio is locked" in
// write_begin, "folio_lock: a folio fsync must write is locked by …" in
// fsync's wait). Built only when a report asks for it.

extension Blocker {
    /// The blocker in the words of `t`'s kernel function.
    public func description(in t: Transition) -> String {
        switch self {
        case .taskBusy(let task): return "task \(task) is inside another operation"
        case .taskIdle(let task): return "task \(task) is idle"
        case .taskNotAtStep(let task): return "task \(task) " + Self.expectedStep(of: t)
        case .noFileSystem(let dev):
            switch t {
            case .ext4NewInode, .freezeSuper: return "no file system on \(dev)"
            default: return "no file system"
            }
        case .freezeBlocks(_, let level, let gate):
            switch gate {
            case .sbStartWrite:
                if case .ext4DaWriteBegin = t { return "sb_start_write blocks: fs is \(level)" }
                return "sb_start_write blocks on a freeze"
            case .sbStartPagefault: return "sb_start_pagefault blocks: fs is \(level)"
            case .journalStart: return "write_begin's journal start blocks on a frozen fs"
            case .freezeSuper: return "fs is \(level)"
            }
        case .notFrozen: return "fs is not frozen"
        case .writerInside: return "sb_wait_write: a writer is still inside"
        case .inodeMissing(let i): return "\(i) does not exist"
        case .inodeNotLive(let i, let lifecycle): return "\(i) is \(lifecycle)"
        case .inodeExists(let i, _): return "\(i) already exists"
        case .inodeNotNew(let i): return "\(i) is not new"
        case .inodeReferenced(let i): return "\(i) is still referenced"
        case .mutexHeld:
            if case .ext4EndIoWork = t { return "mutex_trylock(i_mutex) fails: requeue" }
            return "i_mutex is held"
        case .ioEndsPending: return "i_ioend_count is not 0"
        case .unwrittenPending: return "i_unwritten is not 0"
        case .conversionsPending: return "conversions are pending (flush_workqueue)"
        case .folioNotCached, .folioNotUptodate: return "folio is not in the page cache"
        case .folioCached: return "folio is cached: no read"
        case .folioLocked(let f, let holder):
            switch t {
            case .truncatePagecache: return "\(f) is locked"
            case .truncateInodePagesFinal: return "a folio is locked"
            case .filemapFdatawaitRange: return "folio_lock: a folio fsync must write is locked by \(holder)"
            case .shrinkFolioList: return Self.notReclaimable
            default: return "folio is locked"
            }
        case .folioUnderWriteback(let f):
            switch t {
            case .mpageSubmitFolio: return "WB_SYNC_ALL waits for the folio's writeback"
            case .truncatePagecache: return "folio_wait_writeback: \(f) is under writeback"
            case .truncateInodePagesFinal: return "a folio is under writeback"
            case .filemapFdatawaitRange: return "folio_wait_writeback: a folio is under writeback"
            case .ext4Freeze: return Self.notClean
            case .shrinkFolioList: return Self.notReclaimable
            default: return "waits for the folio's writeback"
            }
        case .folioDirty:
            if case .ext4Freeze = t { return Self.notClean }
            return Self.notReclaimable
        case .folioMapped: return Self.notReclaimable
        case .folioNotMapped: return "folio is not mapped"
        case .pteWritable: return "the pte is already writable: no fault"
        case .pteNotWritable: return "the pte is not writable: the store faults (ext4_page_mkwrite)"
        case .writebackMidFolio: return "writeback is mid-folio"
        case .notNextDirtyFolio(let f, _): return "\(f) is not the next dirty folio"
        case .writebackNotFinished:
            switch t {
            case .filemapFdatawaitRange: return "the fsync's writeback is not finished"
            case .ext4Freeze: return "sync_filesystem has folios left to write"
            default: return "writeback of the inode is not finished"
            }
        case .ioEndMissing(let io): return "no \(io)"
        case .ioEndEmpty: return "io_end has no folio"
        case .bioNotQueued(let b): return "\(b) is not queued"
        case .bioNotInFlight(let b): return "\(b) is not in flight"
        case .ioEndNotCompleted(let io, _): return "\(io) is not a completed unwritten io_end"
        case .workerBusy:
            if case .ext4Freeze = t { return "the conversion worker is running" }
            return "the conversion worker is busy"
        case .workNotQueued(.ioEnd(let io)): return "\(io)'s work is not queued"
        case .workNotQueued(.inode): return "i_rsv_conversion_work is not queued"
        case .notNextForWorker(let io): return "\(io) is not next in the worker's list"
        case .previousNotReleased: return "the previous io_end is not released"
        case .notJustConverted(let io): return "\(io) was not just converted by the worker"
        case .workerHasConversionsLeft: return "the worker has conversions left"
        case .notInProfile: return Self.otherGeneration(t)
        }
    }

    private static let notReclaimable = "folio is dirty, under writeback, locked or mapped"
    private static let notClean = "a folio is dirty or under writeback"

    /// Where a task must be for `t` to continue its operation.
    private static func expectedStep(of t: Transition) -> String {
        switch t {
        case .ext4DaWriteEnd: return "is not in a write"
        case .ext4Freeze: return "is not freezing"
        case .ext4Unfreeze: return "is not thawing"
        case .ext4IoendWait: return "is not in ext4_ioend_wait"
        case .truncateInodePagesFinal: return "is not truncating pages"
        case .ext4FreeInode: return "is not freeing an inode"
        case .truncatePagecache: return "is not truncating the page cache"
        case .ext4ExtRemoveSpace: return "is not about to remove blocks"
        case .filemapFdatawaitRange: return "is not in file_write_and_wait_range"
        case .ext4FlushCompletedIO: return "is not about to flush completed io"
        case .ext4UnwrittenWait: return "is not about to wait for unwritten conversions"
        case .ext4SyncFileReturn: return "is not about to commit"
        case .mpageSubmitFolio: return "is not in writeback"
        case .ext4BioWriteFolio(_, let f): return "has not locked \(f) for writeback"
        case .ext4IoSubmit(_, let io): return "has no open io_end \(io)"
        case .ext4PutIoEnd(_, let io): return "holds no reference on \(io)"
        case .ext4WritepagesResult: return "is not in ext4_writepages"
        default: return "is not at \(t.kernelFunction)"
        }
    }

    /// Why `t` does not exist in this profile's kernel.
    private static func otherGeneration(_ t: Transition) -> String {
        switch t {
        case .ext4AddCompleteIo: return "≥3.11 queues inside ext4_end_bio"
        case .ext4EndIoWork: return "≥3.11 the work is per inode"
        case .ext4EndIoRsvWork: return "≤3.7 the work is per io_end"
        case .ext4ReleaseIoEnd: return "≤3.7 frees in ext4_free_io_end"
        case .ext4FreeIoEnds: return "≥3.11 releases per io_end"
        default: return "\(t.kernelFunction) does not exist in this kernel"
        }
    }
}
