import TraceIO

// Everything that puts new data into a folio: write(2), write faults, stores.

extension WritebackModel {
    func superblock(of inode: InodeRef, _ s: ModelState) -> SuperblockState? { s.superblocks[inode.dev] }

    /// Whether a modifier must wait for the folio's writeback on this profile
    /// and device (stable pages, seed 003).
    func waitsForWriteback(_ inode: InodeRef, _ s: ModelState) -> Bool {
        profile.stablePageWait.waits(stableWrites: superblock(of: inode, s)?.stableWrites ?? false)
    }

    /// `ext4_da_write_begin`: the VFS took `sb_start_write` (blocks from the
    /// first freeze level on) and `i_mutex`; the folio is found or added
    /// (`mm_filemap_add_to_page_cache`) and locked; then
    /// `grab_cache_page_write_begin` / FGP_STABLE waits for writeback where
    /// the profile does (3.6 mm/filemap.c:2277; 6.18 `folio_wait_stable`).
    func ext4DaWriteBegin(_ task: Int, _ folio: FolioRef, _ s: inout ModelState) -> String? {
        if let r = idle(task, s) ?? live(folio.inode, s) { return r }
        guard let sb = superblock(of: folio.inode, s) else { return "no file system" }
        guard sb.freeze == .unfrozen else { return "sb_start_write blocks: fs is \(sb.freeze)" }
        guard s.inodes[folio.inode]!.mutexHolder == nil else { return "i_mutex is held" }
        if let f = s.folio(folio) {
            if f.lockedBy != nil { return "folio is locked" }
            if f.writeback && waitsForWriteback(folio.inode, s) { return "waits for the folio's writeback" }
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
    func ext4DaWriteEnd(_ task: Int, _ s: inout ModelState) -> String? {
        guard case .bufferedWrite(let folio)? = s.tasks[task]?.operation else { return "task \(task) is not in a write" }
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
    func ext4PageMkwrite(_ task: Int, _ folio: FolioRef, _ s: inout ModelState) -> String? {
        if let r = idle(task, s) ?? live(folio.inode, s) { return r }
        guard let sb = superblock(of: folio.inode, s) else { return "no file system" }
        guard let f = s.folio(folio), f.uptodate else { return "folio is not in the page cache" }
        guard f.pte != .writable else { return "the pte is already writable: no fault" }
        if profile.pageMkwriteBlocksOnFreeze {
            guard sb.freeze == .unfrozen else { return "sb_start_pagefault blocks: fs is \(sb.freeze)" }
        } else {
            let needsAllocation = s.inodes[folio.inode]!.extents.states(in: s.blocks(of: folio)).contains { $0.state == .hole }
            if needsAllocation && sb.freeze == .frozen { return "write_begin's journal start blocks on a frozen fs" }
        }
        guard f.lockedBy == nil else { return "folio is locked" }
        if f.writeback && waitsForWriteback(folio.inode, s) { return "waits for the folio's writeback" }
        s.updateFolio(folio) {
            $0.dirty = true
            $0.pte = .writable
            $0.pteDirty = true
        }
        return nil
    }

    /// A store through a writable PTE: no fault, no kernel code; the PTE's
    /// dirty bit is set (seed 001 case [4]).
    func userStore(_ task: Int, _ folio: FolioRef, _ s: inout ModelState) -> String? {
        if let r = idle(task, s) { return r }
        guard s.folio(folio)?.pte == .writable else { return "the pte is not writable: the store faults (ext4_page_mkwrite)" }
        s.updateFolio(folio) { $0.pteDirty = true }
        return nil
    }

    /// `filemap_fault` for a read: map the folio read-only, reading it in
    /// first (`ext4_read_folio`) if it is not cached.
    func filemapFault(_ task: Int, _ folio: FolioRef, _ s: inout ModelState) -> String? {
        if let r = idle(task, s) ?? live(folio.inode, s) { return r }
        if s.folio(folio) == nil {
            s.inodes[folio.inode]!.folios[folio.index] = FolioState()
        }
        if s.folio(folio)!.pte == .none { s.updateFolio(folio) { $0.pte = .readOnly } }
        return nil
    }

    /// `zap_pte_range` (munmap): a dirty PTE is transferred to the folio
    /// (`folio_mark_dirty`), then the mapping is gone.
    func zapPteRange(_ task: Int, _ folio: FolioRef, _ s: inout ModelState) -> String? {
        if let r = idle(task, s) { return r }
        guard let f = s.folio(folio), f.pte != .none else { return "folio is not mapped" }
        s.updateFolio(folio) {
            if $0.pteDirty { $0.dirty = true }
            $0.pte = .none
            $0.pteDirty = false
        }
        return nil
    }

    /// `ext4_fallocate` (mode 0): holes in the range become unwritten
    /// extents (`ext4_ext_map_blocks` with CREATE_UNWRIT_EXT); i_size grows.
    func ext4Fallocate(_ task: Int, _ inode: InodeRef, _ range: BlockRange, _ s: inout ModelState) -> String? {
        if let r = idle(task, s) ?? live(inode, s) { return r }
        guard s.superblocks[inode.dev]?.freeze == .unfrozen else { return "sb_start_write blocks on a freeze" }
        guard s.inodes[inode]!.mutexHolder == nil else { return "i_mutex is held" }
        for hole in s.inodes[inode]!.extents.ranges(in: range, state: .hole) {
            s.inodes[inode]!.extents.set(hole, to: .unwritten)
        }
        s.inodes[inode]!.sizeBlocks = max(s.inodes[inode]!.sizeBlocks, range.end)
        return nil
    }
}
