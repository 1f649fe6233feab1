import TraceIO

// Inode life: ext4_new_inode … ext4_evict_inode → ext4_free_inode.

extension WritebackModel {
    func idle(_ task: Int, _ s: ModelState) -> Blocker? {
        s.tasks[task] == nil ? nil : .taskBusy(task: task)
    }

    func live(_ inode: InodeRef, _ s: ModelState) -> Blocker? {
        guard let i = s.inodes[inode] else { return .inodeMissing(inode) }
        return i.lifecycle == .live ? nil : .inodeNotLive(inode, i.lifecycle)
    }

    /// Another task has an operation on the inode (and so holds a reference).
    func inUse(_ inode: InodeRef, except task: Int, _ s: ModelState) -> Bool {
        s.tasks.contains { id, t in id != task && refers(t, to: inode) }
    }

    /// The task's operation is on the inode.
    func refers(_ t: TaskState, to inode: InodeRef) -> Bool {
        switch t.operation {
        case .bufferedWrite(let f): return f.inode == inode
        case .writepages(let i), .evict(let i, _): return i == inode
        case .syncFile(let p): return p.inode == inode
        case .removeBlocks(let p): return p.inode == inode
        case .freeze, .thaw: return t.writeback?.lockedFolio?.inode == inode || t.writeback?.ioEnd?.inode == inode
        }
    }

    /// `ext4_new_inode`: a new incarnation (a reused number gets a new generation).
    func ext4NewInode(_ task: Int, _ inode: InodeRef, _ s: inout ModelState) -> Blocker? {
        if let r = idle(task, s) { return r }
        guard s.superblocks[inode.dev] != nil else { return .noFileSystem(inode.dev) }
        if let old = s.inodes[inode] { return .inodeExists(inode, old.lifecycle) }
        s.inodes[inode] = InodeState(lifecycle: .allocated)
        return nil
    }

    /// `unlock_new_inode`: I_NEW cleared, the inode is usable.
    func unlockNewInode(_ task: Int, _ inode: InodeRef, _ s: inout ModelState) -> Blocker? {
        if let r = idle(task, s) { return r }
        guard s.inodes[inode]?.lifecycle == .allocated else { return .inodeNotNew(inode) }
        s.inodes[inode]!.lifecycle = .live
        return nil
    }

    /// `ext4_evict_inode` entry (after `iput_final`; the inode was unlinked,
    /// so dirty folios are dropped rather than written). Nobody else may hold
    /// the inode.
    func ext4EvictInode(_ task: Int, _ inode: InodeRef, _ s: inout ModelState) -> Blocker? {
        if let r = idle(task, s) ?? live(inode, s) { return r }
        guard s.inodes[inode]!.mutexHolder == nil, !inUse(inode, except: task, s) else {
            return .inodeReferenced(inode)
        }
        s.inodes[inode]!.lifecycle = .evicting
        let first: EvictStep = traits.evictWaitsForIoEnds ? .ioendWait : .truncatePages
        s.tasks[task] = TaskState(operation: .evict(inode, first))
        return nil
    }

    private func evicting(_ task: Int, _ step: EvictStep, _ s: ModelState) -> InodeRef? {
        guard case .evict(let inode, let current)? = s.tasks[task]?.operation, current == step else { return nil }
        return inode
    }

    /// `ext4_ioend_wait` [3.6 page-io.c:52-58]: ≤3.10 evict sleeps until
    /// `i_ioend_count` is 0, i.e. every io_end of the inode was freed.
    func ext4IoendWait(_ task: Int, _ s: inout ModelState, passing: Waits) -> Blocker? {
        guard let inode = evicting(task, .ioendWait, s) else { return .taskNotAtStep(task: task) }
        if !s.inodes[inode]!.ioEnds.isEmpty, !passing.contains(.ioendCount) { return .ioEndsPending(inode) }
        s.tasks[task]!.operation = .evict(inode, .truncatePages)
        return nil
    }

    /// `truncate_inode_pages_final`: waits for every folio's writeback (the
    /// only thing that pins the inode on ≥3.11, research I3), drops them all.
    func truncateInodePagesFinal(_ task: Int, _ s: inout ModelState) -> Blocker? {
        guard let inode = evicting(task, .truncatePages, s) else { return .taskNotAtStep(task: task) }
        let folios = s.inodes[inode]!.folios
        if let index = folios.writebackIndexes.min() { return .folioUnderWriteback(FolioRef(inode: inode, index: index)) }
        if folios.values.contains(where: { $0.lockedBy != nil }) {
            let index = folios.keys.filter { folios[$0]!.lockedBy != nil }.min()!
            return .folioLocked(FolioRef(inode: inode, index: index), holder: folios[index]!.lockedBy!)
        }
        s.inodes[inode]!.folios = [:]
        s.tasks[task]!.operation = .evict(inode, .free)
        return nil
    }

    /// `ext4_free_inode` and `destroy_inode`: the inode's memory goes back to
    /// the slab. Anything that still points at it (an io_end, the queued
    /// `i_rsv_conversion_work`) is now a use-after-free.
    func ext4FreeInode(_ task: Int, _ s: inout ModelState) -> Blocker? {
        guard let inode = evicting(task, .free, s) else { return .taskNotAtStep(task: task) }
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
