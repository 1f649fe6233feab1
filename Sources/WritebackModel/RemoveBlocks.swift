import TraceIO

// Truncate (ext4_setattr → ext4_truncate) and punch hole: drop the page
// cache, (≤3.7) flush conversions, then ext4_ext_remove_space.

extension WritebackModel {
    private func removing(_ task: Int, _ step: RemoveBlocksProgress.Step, _ s: ModelState) -> RemoveBlocksProgress? {
        guard case .removeBlocks(let p)? = s.tasks[task]?.operation, p.step == step else { return nil }
        return p
    }

    private func beginRemove(_ task: Int, _ p: RemoveBlocksProgress, _ s: inout ModelState,
                             passing: Waits) -> Blocker? {
        if let r = idle(task, s) ?? live(p.inode, s) { return r }
        if let r = freezeProtection(p.inode.dev, s, passing) { return r }
        if let holder = s.inodes[p.inode]!.mutexHolder { return .mutexHeld(p.inode, holder: holder) }
        s.inodes[p.inode]!.mutexHolder = task
        s.tasks[task] = TaskState(operation: .removeBlocks(p))
        return nil
    }

    /// `ext4_setattr` shrinking i_size [6.18 inode.c:5915-6030]: `inode_lock`,
    /// `truncate_setsize`; the blocks from the new size on will be removed.
    func ext4Setattr(_ task: Int, _ inode: InodeRef, _ newSize: UInt64, _ s: inout ModelState,
                     passing: Waits) -> Blocker? {
        guard let i = s.inodes[inode] else { return .inodeMissing(inode) }
        let lastFolioEnd = i.folios.keys.max().map { s.blocks(of: FolioRef(inode: inode, index: $0)).end } ?? 0
        let end = max(i.sizeBlocks, i.extents.allocatedEnd, lastFolioEnd, newSize)
        let p = RemoveBlocksProgress(kind: .truncate, inode: inode,
                                     range: BlockRange(lblk: newSize, len: end - newSize), step: .pagecache)
        if let r = beginRemove(task, p, &s, passing: passing) { return r }
        s.inodes[inode]!.sizeBlocks = min(s.inodes[inode]!.sizeBlocks, newSize)
        return nil
    }

    /// `ext4_punch_hole` [6.18 inode.c:4376-4460]: `inode_lock`, `inode_dio_wait`.
    /// `freed`: `first_block` (rounded up) to `stop_block` (rounded down).
    func ext4PunchHole(_ task: Int, _ inode: InodeRef, _ range: BlockRange, freed: BlockRange, _ s: inout ModelState,
                       passing: Waits) -> Blocker? {
        beginRemove(task, RemoveBlocksProgress(kind: .punchHole, inode: inode, range: range, freed: freed, step: .pagecache),
                    &s, passing: passing)
    }

    /// `ext4_writepages` inside a punch hole, before its page cache goes
    /// (`punchHoleWritesBackDirtyFolios`): a WB_SYNC_ALL pass over the
    /// range's dirty folios, on the punching task's own cursor. False (and
    /// nothing done) when the task is not at that point.
    func startPunchHoleWriteback(_ task: Int, _ inode: InodeRef, _ s: inout ModelState) -> Bool {
        guard let p = removing(task, .pagecache, s), p.kind == .punchHole, p.inode == inode,
              s.tasks[task]?.writeback == nil, traits.punchHoleWritesBackDirtyFolios else { return false }
        let dirty = s.sortedFolios(of: inode).filter { s.folio($0)?.dirty == true && s.blocks(of: $0).intersection(p.range) != nil }
        s.tasks[task]!.writeback = WritebackCursor(scope: .inode(inode), syncAll: true, toWrite: Set(dirty.map(\.index)))
        return true
    }

    /// `truncate_pagecache` / `truncate_pagecache_range` [mm/truncate.c:366-464]:
    /// folios under writeback are waited for (`folio_wait_writeback`), then
    /// every folio wholly in the freed range leaves the page cache, dirty or
    /// not; a folio the range only partly covers stays
    /// (`truncate_inode_partial_folio` zeroes its part).
    func truncatePagecache(_ task: Int, _ s: inout ModelState) -> Blocker? {
        guard var p = removing(task, .pagecache, s) else { return .taskNotAtStep(task: task) }
        // A punch hole's own writeback (≤6.13) has finished first: filemap_write_and_wait_range.
        if let c = cursor(task, s), !s.writebackIdle(c) { return .writebackNotFinished(task: task) }
        let doomed = s.sortedFolios(of: p.inode).filter { s.blocks(of: $0).intersection(p.range) != nil }
        for ref in doomed {
            let f = s.folio(ref)!
            if f.writeback { return .folioUnderWriteback(ref) }
            if let holder = f.lockedBy { return .folioLocked(ref, holder: holder) }
        }
        for ref in doomed where s.blocks(of: ref).isWithin(p.freed) { s.inodes[p.inode]!.folios[ref.index] = nil }
        p.step = traits.flushesCompletedIO ? .flushCompletedIO : .removeSpace
        s.tasks[task]!.operation = .removeBlocks(p)
        return nil
    }

    /// `ext4_ext_remove_space` (from `ext4_truncate` / `ext4_punch_hole`):
    /// the blocks are freed; `inode_unlock`.
    func ext4ExtRemoveSpace(_ task: Int, _ s: inout ModelState) -> Blocker? {
        guard let p = removing(task, .removeSpace, s) else { return .taskNotAtStep(task: task) }
        s.inodes[p.inode]!.extents.set(p.freed, to: .hole)
        s.inodes[p.inode]!.mutexHolder = nil
        s.tasks[task] = nil
        return nil
    }
}
