import TraceIO

// Everything that puts new data into a folio: write(2), write faults, stores.

extension WritebackModel {
    func superblock(of inode: InodeRef, _ s: ModelState) -> SuperblockState? { s.superblocks[inode.dev] }

    /// `sb_start_write`: blocks from the first freeze level on, unless the
    /// trace shows the writer went past it (`passing`).
    func freezeProtection(_ dev: DeviceNumber, _ s: ModelState, _ passing: Waits) -> Blocker? {
        guard let sb = s.superblocks[dev] else { return .noFileSystem(dev) }
        guard sb.freeze != .unfrozen, !passing.contains(.freezeProtection) else { return nil }
        return .freezeBlocks(dev, sb.freeze, .sbStartWrite)
    }

    /// Whether a modifier must wait for the folio's writeback on this profile
    /// and device (stable pages, seed 003).
    func waitsForWriteback(_ inode: InodeRef, _ s: ModelState) -> Bool {
        traits.stablePageWait.waits(stableWrites: superblock(of: inode, s)?.stableWrites ?? false)
    }

    /// `ext4_da_write_begin`: the VFS took `sb_start_write` (blocks from the
    /// first freeze level on) and `i_mutex`; the folio is found or added
    /// (`mm_filemap_add_to_page_cache`) and locked; then
    /// `grab_cache_page_write_begin` / FGP_STABLE waits for writeback where
    /// the profile does (3.6 mm/filemap.c:2277; 6.18 `folio_wait_stable`).
    func ext4DaWriteBegin(_ task: Int, _ folio: FolioRef, _ s: inout ModelState, passing: Waits) -> Blocker? {
        if let r = idle(task, s) ?? live(folio.inode, s) { return r }
        if let r = freezeProtection(folio.inode.dev, s, passing) { return r }
        if let holder = s.inodes[folio.inode]!.mutexHolder { return .mutexHeld(folio.inode, holder: holder) }
        if let f = s.folio(folio) {
            if let holder = f.lockedBy { return .folioLocked(folio, holder: holder) }
            if f.writeback && waitsForWriteback(folio.inode, s) && !passing.contains(.stablePages) {
                return .folioUnderWriteback(folio)
            }
        }
        s.inodes[folio.inode]!.mutexHolder = task
        if s.folio(folio) == nil {
            var fresh = FolioState()
            fresh.uptodate = false
            s.inodes[folio.inode]!.folios[folio.index] = fresh
        }
        s.updateFolio(folio) { $0.lockedBy = .task(task) }
        s.tasks[task] = TaskState(operation: .bufferedWrite(folio))
        return nil
    }

    /// `ext4_da_write_end`: the data was copied in; `block_write_end` marks
    /// the folio dirty (`writeback_dirty_folio` on clean → dirty), i_size
    /// grows, the folio is unlocked, `i_mutex` and `sb_start_write` dropped.
    func ext4DaWriteEnd(_ task: Int, _ s: inout ModelState) -> Blocker? {
        guard case .bufferedWrite(let folio)? = s.tasks[task]?.operation else { return .taskNotAtStep(task: task) }
        let end = s.blocks(of: folio).end
        s.updateFolio(folio) {
            $0.uptodate = true
            $0.dirty = true
            $0.lockedBy = nil
        }
        s.inodes[folio.inode]!.sizeBlocks = max(s.inodes[folio.inode]!.sizeBlocks, end)
        s.inodes[folio.inode]!.mutexHolder = nil
        s.tasks[task] = nil
        return nil
    }

    /// `ext4_page_mkwrite` and the store that faulted. 3.6+: `sb_start_pagefault`
    /// blocks from the start of a freeze; 2.6.39: only the path that must
    /// allocate (write_begin → journal start) blocks, and only once the fs is
    /// frozen — a folio whose blocks are mapped goes straight through (seed 001
    /// case [3]). Then the folio is locked, writeback waited on per profile,
    /// marked dirty, and mapped writable.
    func ext4PageMkwrite(_ task: Int, _ folio: FolioRef, _ s: inout ModelState, passing: Waits) -> Blocker? {
        if let r = idle(task, s) ?? live(folio.inode, s) { return r }
        let dev = folio.inode.dev
        guard let sb = superblock(of: folio.inode, s) else { return .noFileSystem(dev) }
        guard let f = s.folio(folio) else { return .folioNotCached(folio) }
        guard f.uptodate else { return .folioNotUptodate(folio) }
        guard f.pte != .writable else { return .pteWritable(folio) }
        if sb.freeze != .unfrozen, !passing.contains(.freezeProtection) {
            if traits.pageMkwriteBlocksOnFreeze { return .freezeBlocks(dev, sb.freeze, .sbStartPagefault) }
            let needsAllocation = s.inodes[folio.inode]!.extents.states(in: s.blocks(of: folio)).contains { $0.state == .hole }
            if needsAllocation && sb.freeze == .frozen { return .freezeBlocks(dev, sb.freeze, .journalStart) }
        }
        if let holder = f.lockedBy { return .folioLocked(folio, holder: holder) }
        if f.writeback && waitsForWriteback(folio.inode, s) && !passing.contains(.stablePages) {
            return .folioUnderWriteback(folio)
        }
        s.updateFolio(folio) {
            $0.dirty = true
            $0.pte = .writable
            $0.pteDirty = true
        }
        return nil
    }

    /// A store through a writable PTE: no fault, no kernel code; the PTE's
    /// dirty bit is set (seed 001 case [4]).
    func userStore(_ task: Int, _ folio: FolioRef, _ s: inout ModelState) -> Blocker? {
        if let r = idle(task, s) { return r }
        guard s.folio(folio)?.pte == .writable else { return .pteNotWritable(folio) }
        s.updateFolio(folio) { $0.pteDirty = true }
        return nil
    }

    /// `filemap_fault` for a read: map the folio read-only, reading it in
    /// first (`ext4_read_folio`) if it is not cached.
    func filemapFault(_ task: Int, _ folio: FolioRef, _ s: inout ModelState) -> Blocker? {
        if let r = idle(task, s) ?? live(folio.inode, s) { return r }
        if s.folio(folio) == nil {
            s.inodes[folio.inode]!.folios[folio.index] = FolioState()
        }
        if s.folio(folio)!.pte == .none { s.updateFolio(folio) { $0.pte = .readOnly } }
        return nil
    }

    /// `zap_pte_range` (munmap): a dirty PTE is transferred to the folio
    /// (`folio_mark_dirty`), then the mapping is gone.
    func zapPteRange(_ task: Int, _ folio: FolioRef, _ s: inout ModelState) -> Blocker? {
        if let r = idle(task, s) { return r }
        guard let f = s.folio(folio), f.pte != .none else { return .folioNotMapped(folio) }
        s.updateFolio(folio) {
            if $0.pteDirty { $0.dirty = true }
            $0.pte = .none
            $0.pteDirty = false
        }
        return nil
    }

    /// `ext4_fallocate` (mode 0): holes in the range become unwritten
    /// extents (`ext4_ext_map_blocks` with CREATE_UNWRIT_EXT); i_size grows.
    func ext4Fallocate(_ task: Int, _ inode: InodeRef, _ range: BlockRange, _ s: inout ModelState,
                       passing: Waits) -> Blocker? {
        if let r = idle(task, s) ?? live(inode, s) { return r }
        if let r = freezeProtection(inode.dev, s, passing) { return r }
        if let holder = s.inodes[inode]!.mutexHolder { return .mutexHeld(inode, holder: holder) }
        for hole in s.inodes[inode]!.extents.ranges(in: range, state: .hole) {
            s.inodes[inode]!.extents.set(hole, to: .unwritten)
        }
        s.inodes[inode]!.sizeBlocks = max(s.inodes[inode]!.sizeBlocks, range.end)
        return nil
    }
}
