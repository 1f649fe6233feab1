import TraceIO

// Inode life: ext4_new_inode … ext4_evict_inode → ext4_free_inode.

extension WritebackModel {
    func idle(_ task: Int, _ s: ModelState) -> String? {
        s.tasks[task] == nil ? nil : "task \(task) is inside another operation"
    }

    func live(_ inode: InodeRef, _ s: ModelState) -> String? {
        guard let i = s.inodes[inode] else { return "\(inode) does not exist" }
        return i.lifecycle == .live ? nil : "\(inode) is \(i.lifecycle)"
    }

    /// Another task has an operation on the inode (and so holds a reference).
    func inUse(_ inode: InodeRef, except task: Int, _ s: ModelState) -> Bool {
        s.tasks.contains { id, t in
            guard id != task else { return false }
            switch t.operation {
            case .bufferedWrite(let f): return f.inode == inode
            case .writepages(let i), .evict(let i, _): return i == inode
            case .syncFile(let p): return p.inode == inode
            case .removeBlocks(let p): return p.inode == inode
            case .freeze, .thaw: return t.writeback?.lockedFolio?.inode == inode || t.writeback?.ioEnd?.inode == inode
            }
        }
    }

    /// `ext4_new_inode`: a new incarnation (a reused number gets a new generation).
    func ext4NewInode(_ task: Int, _ inode: InodeRef, _ s: inout ModelState) -> String? {
        if let r = idle(task, s) { return r }
        guard s.superblocks[inode.dev] != nil else { return "no file system on \(inode.dev)" }
        guard s.inodes[inode] == nil else { return "\(inode) already exists" }
        s.inodes[inode] = InodeState(lifecycle: .allocated)
        return nil
    }

    /// `unlock_new_inode`: I_NEW cleared, the inode is usable.
    func unlockNewInode(_ task: Int, _ inode: InodeRef, _ s: inout ModelState) -> String? {
        if let r = idle(task, s) { return r }
        guard s.inodes[inode]?.lifecycle == .allocated else { return "\(inode) is not new" }
        s.inodes[inode]!.lifecycle = .live
        return nil
    }

    /// `ext4_evict_inode` entry (after `iput_final`; the inode was unlinked,
    /// so dirty folios are dropped rather than written). Nobody else may hold
    /// the inode.
    func ext4EvictInode(_ task: Int, _ inode: InodeRef, _ s: inout ModelState) -> String? {
        if let r = idle(task, s) ?? live(inode, s) { return r }
        guard s.inodes[inode]!.mutexHolder == nil, !inUse(inode, except: task, s) else {
            return "\(inode) is still referenced"
        }
        s.inodes[inode]!.lifecycle = .evicting
        let first: EvictStep = profile.evictWaitsForIoEnds ? .ioendWait : .truncatePages
        s.tasks[task] = TaskState(operation: .evict(inode, first))
        return nil
    }

    private func evicting(_ task: Int, _ step: EvictStep, _ s: ModelState) -> InodeRef? {
        guard case .evict(let inode, let current)? = s.tasks[task]?.operation, current == step else { return nil }
        return inode
    }

    /// `ext4_ioend_wait` [3.6 page-io.c:52-58]: ≤3.10 evict sleeps until
    /// `i_ioend_count` is 0, i.e. every io_end of the inode was freed.
    func ext4IoendWait(_ task: Int, _ s: inout ModelState) -> String? {
        guard let inode = evicting(task, .ioendWait, s) else { return "task \(task) is not in ext4_ioend_wait" }
        guard s.inodes[inode]!.ioEnds.isEmpty else { return "i_ioend_count is not 0" }
        s.tasks[task]!.operation = .evict(inode, .truncatePages)
        return nil
    }

    /// `truncate_inode_pages_final`: waits for every folio's writeback (the
    /// only thing that pins the inode on ≥3.11, research I3), drops them all.
    func truncateInodePagesFinal(_ task: Int, _ s: inout ModelState) -> String? {
        guard let inode = evicting(task, .truncatePages, s) else { return "task \(task) is not truncating pages" }
        let folios = s.inodes[inode]!.folios
        if folios.values.contains(where: { $0.writeback }) { return "a folio is under writeback" }
        if folios.values.contains(where: { $0.lockedBy != nil }) { return "a folio is locked" }
        s.inodes[inode]!.folios = [:]
        s.tasks[task]!.operation = .evict(inode, .free)
        return nil
    }

    /// `ext4_free_inode` and `destroy_inode`: the inode's memory goes back to
    /// the slab. Anything that still points at it (an io_end, the queued
    /// `i_rsv_conversion_work`) is now a use-after-free.
    func ext4FreeInode(_ task: Int, _ s: inout ModelState) -> String? {
        guard let inode = evicting(task, .free, s) else { return "task \(task) is not freeing an inode" }
        s.inodes[inode]!.lifecycle = .freed
        s.tasks[task] = nil
        return nil
    }
}

extension ModelState {
    /// Forgets freed inodes that nothing refers to any more, so a long
    /// replay's state does not grow with every inode ever created.
    public mutating func pruneFreedInodes() {
        for (ref, inode) in inodes where inode.lifecycle == .freed && inode.ioEnds.isEmpty && !inode.rsvWorkQueued
            && superblocks[ref.dev]?.worker?.inode != ref {
            inodes[ref] = nil
        }
    }
}
