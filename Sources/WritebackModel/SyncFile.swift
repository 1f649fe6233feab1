import TraceIO

// ext4_sync_file: write, wait, (≤3.7) flush conversions, commit, return.

extension WritebackModel {
    private func syncing(_ task: Int, _ step: SyncFileProgress.Step, _ s: ModelState) -> SyncFileProgress? {
        guard case .syncFile(let p)? = s.tasks[task]?.operation, p.step == step else { return nil }
        return p
    }

    /// `ext4_sync_file` entry (`ext4_sync_file_enter`), then
    /// `file_write_and_wait_range` starts a WB_SYNC_ALL writeback of the
    /// folios dirty now (the TOWRITE tag): those, and every io_end already
    /// under way, are what this fsync must make durable.
    func ext4SyncFile(_ task: Int, _ inode: InodeRef, _ datasync: Bool, _ s: inout ModelState) -> Blocker? {
        if let r = idle(task, s) ?? live(inode, s) { return r }
        // Sets, not sorted lists: a large fsync covers thousands of folios,
        // and the rules ask "is this one covered" once per io_end folio.
        let dirty = s.inodes[inode]!.folios.dirtyIndexes
        // The DIRTY tag outlives PG_dirty until __folio_start_writeback: a
        // folio another writeback has locked and cleaned but not yet put
        // under writeback is still tagged, so tag_pages_for_writeback makes
        // it this fsync's too (found by `explore`).
        let tagged = s.tasks.values.compactMap { $0.writeback?.lockedFolio }.filter { $0.inode == inode }
        let progress = SyncFileProgress(inode: inode, datasync: datasync, step: .writeAndWait,
                                        covered: dirty.union(tagged.map(\.index)),
                                        preexisting: Set(s.inodes[inode]!.ioEnds.keys))
        s.tasks[task] = TaskState(operation: .syncFile(progress),
                                  writeback: WritebackCursor(scope: .inode(inode), syncAll: true,
                                                             toWrite: dirty))
        return nil
    }

    /// `filemap_fdatawait_range` → `folio_wait_writeback` on every folio
    /// still under writeback. ≥3.11 this is what waits for the conversion.
    func filemapFdatawaitRange(_ task: Int, _ s: inout ModelState) -> Blocker? {
        guard var p = syncing(task, .writeAndWait, s), let c = cursor(task, s) else {
            return .taskNotAtStep(task: task)
        }
        guard s.writebackIdle(c) else { return .writebackNotFinished(task: task) }
        // write_cache_pages (WB_SYNC_ALL) locks every folio still tagged
        // TOWRITE; another writeback holds the lock from
        // folio_clear_dirty_for_io to __folio_start_writeback (which clears
        // the tag), a writer from write_begin to write_end: fsync waits for
        // it, then finds the folio under writeback (found by `explore`).
        if let blocker = lockedFolio(coveredBy: p, except: task, s) { return blocker }
        if let index = s.inodes[p.inode]!.folios.writebackIndexes.min() {
            return .folioUnderWriteback(FolioRef(inode: p.inode, index: index))
        }
        p.step = traits.flushesCompletedIO ? .flushCompletedIO : .commit
        s.tasks[task] = TaskState(operation: .syncFile(p))
        return nil
    }

    /// The lowest folio fsync must write that another actor has locked.
    private func lockedFolio(coveredBy p: SyncFileProgress, except task: Int, _ s: ModelState) -> Blocker? {
        guard let folios = s.inodes[p.inode]?.folios else { return nil }
        var lowest: (index: UInt64, holder: ActorRef)?
        for index in folios.lockedIndexes where p.covered.contains(index) && lowest.map({ index < $0.index }) ?? true {
            if let holder = folios[index]?.lockedBy, holder != .task(task) { lowest = (index, holder) }
        }
        return lowest.map { .folioLocked(FolioRef(inode: p.inode, index: $0.index), holder: $0.holder) }
    }

    /// ≤3.7: `mutex_lock(i_mutex)` then `ext4_flush_completed_IO` (3.6) /
    /// `ext4_flush_unwritten_io` (3.7) — in fsync, truncate and punch hole.
    func ext4FlushCompletedIO(_ task: Int, _ s: inout ModelState) -> Blocker? {
        guard let op = s.tasks[task]?.operation else { return .taskIdle(task: task) }
        switch op {
        case .syncFile(var p) where p.step == .flushCompletedIO:
            if let holder = s.inodes[p.inode]!.mutexHolder { return .mutexHeld(p.inode, holder: holder) }
            s.inodes[p.inode]!.mutexHolder = task
            flushCompletedIO(p.inode, &s)
            p.step = traits.flushWaitsForUnwritten ? .unwrittenWait : .commit
            s.tasks[task]!.operation = .syncFile(p)
        case .removeBlocks(var p) where p.step == .flushCompletedIO:
            flushCompletedIO(p.inode, &s)
            p.step = traits.flushWaitsForUnwritten ? .unwrittenWait : .removeSpace
            s.tasks[task]!.operation = .removeBlocks(p)
        default:
            return .taskNotAtStep(task: task)
        }
        return nil
    }

    /// `ext4_unwritten_wait` (3.7): sleep until `i_unwritten` is 0.
    func ext4UnwrittenWait(_ task: Int, _ s: inout ModelState, passing: Waits) -> Blocker? {
        guard let op = s.tasks[task]?.operation else { return .taskIdle(task: task) }
        let waits = !passing.contains(.unwritten)
        switch op {
        case .syncFile(var p) where p.step == .unwrittenWait:
            if waits && unwrittenPending(p.inode, s) { return .unwrittenPending(p.inode) }
            p.step = .commit
            s.tasks[task]!.operation = .syncFile(p)
        case .removeBlocks(var p) where p.step == .unwrittenWait:
            if waits && unwrittenPending(p.inode, s) { return .unwrittenPending(p.inode) }
            p.step = .removeSpace
            s.tasks[task]!.operation = .removeBlocks(p)
        default:
            return .taskNotAtStep(task: task)
        }
        return nil
    }

    /// `jbd2_complete_transaction` / `jbd2_log_wait_commit` of `i_datasync_tid`
    /// or `i_sync_tid`, then return (`ext4_sync_file_exit`). The journal
    /// itself is not modelled: a conversion that happened is assumed
    /// committed by this commit (research I2b is left to the replay, which
    /// sees the tids).
    func ext4SyncFileReturn(_ task: Int, _ s: inout ModelState) -> Blocker? {
        guard let p = syncing(task, .commit, s) else { return .taskNotAtStep(task: task) }
        if s.inodes[p.inode]?.mutexHolder == task { s.inodes[p.inode]!.mutexHolder = nil }
        s.tasks[task] = nil
        return nil
    }
}
