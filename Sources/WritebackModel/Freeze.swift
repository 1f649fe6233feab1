import TraceIO

// FIFREEZE / FITHAW: freeze_super … ext4_freeze, thaw_super … ext4_unfreeze.

extension WritebackModel {
    /// `freeze_super` [6.18 fs/super.c:2074-2162]: SB_FREEZE_WRITE and
    /// SB_FREEZE_PAGEFAULT (new writers and, 3.6+, write faults block), then
    /// `sync_filesystem`: a WB_SYNC_ALL writeback of every dirty folio of the
    /// fs, done by this task. Writes and writeback during the ioctl are legal.
    func freezeSuper(_ task: Int, _ dev: DeviceNumber, _ s: inout ModelState) -> Blocker? {
        if let r = idle(task, s) { return r }
        guard let sb = s.superblocks[dev] else { return .noFileSystem(dev) }
        guard sb.freeze == .unfrozen else { return .freezeBlocks(dev, sb.freeze, .freezeSuper) }
        s.superblocks[dev]!.freeze = .freezing
        s.tasks[task] = TaskState(operation: .freeze(dev),
                                  writeback: WritebackCursor(scope: .device(dev), syncAll: true))
        return nil
    }

    /// The end of `freeze_super`: `sb_wait_write` saw every writer leave,
    /// `sync_fs` flushed the conversion workqueue (research I8), SB_FREEZE_FS,
    /// `ext4_freeze` flushed the journal; SB_FREEZE_COMPLETE and the ioctl returns.
    func ext4Freeze(_ task: Int, _ s: inout ModelState, passing: Waits) -> Blocker? {
        guard case .freeze(let dev)? = s.tasks[task]?.operation, let c = cursor(task, s) else {
            return .taskNotAtStep(task: task)
        }
        if !passing.contains(.freezeSync), let r = freezeWaits(task, dev, c, s) { return r }
        s.superblocks[dev]!.freeze = .frozen
        s.tasks[task] = nil
        return nil
    }

    /// What the end of `freeze_super` waits for: `sync_filesystem` (this
    /// task's writeback), `sb_wait_write` (writers inside), every folio clean
    /// and idle, `flush_workqueue` (conversions), the worker idle.
    private func freezeWaits(_ task: Int, _ dev: DeviceNumber, _ c: WritebackCursor, _ s: ModelState) -> Blocker? {
        guard s.writebackIdle(c) else { return .writebackNotFinished(task: task) }
        let writers = s.tasks.compactMap { id, t -> Int? in
            if case .bufferedWrite(let f) = t.operation, f.inode.dev == dev { return id }
            return nil
        }
        if let writer = writers.min() { return .writerInside(dev, task: writer) }
        for ref in s.sortedInodes where ref.dev == dev {
            let inode = s.inodes[ref]!
            if let index = inode.folios.dirtyIndexes.min() { return .folioDirty(FolioRef(inode: ref, index: index)) }
            if let index = inode.folios.writebackIndexes.min() {
                return .folioUnderWriteback(FolioRef(inode: ref, index: index))
            }
            if !inode.ioEnds.isEmpty || inode.rsvWorkQueued { return .conversionsPending(ref) }
        }
        if let run = s.superblocks[dev]!.worker { return .workerBusy(dev, running: run.inode) }
        return nil
    }

    /// `thaw_super` (FITHAW entry): the freeze is ending.
    func thawSuper(_ task: Int, _ dev: DeviceNumber, _ s: inout ModelState) -> Blocker? {
        if let r = idle(task, s) { return r }
        guard let level = s.superblocks[dev]?.freeze else { return .noFileSystem(dev) }
        guard level == .frozen else { return .notFrozen(dev, level) }
        s.superblocks[dev]!.freeze = .thawing
        s.tasks[task] = TaskState(operation: .thaw(dev))
        return nil
    }

    /// `ext4_unfreeze` then SB_UNFROZEN: blocked writers and faults resume.
    func ext4Unfreeze(_ task: Int, _ s: inout ModelState) -> Blocker? {
        guard case .thaw(let dev)? = s.tasks[task]?.operation else { return .taskNotAtStep(task: task) }
        s.superblocks[dev]!.freeze = .unfrozen
        s.tasks[task] = nil
        return nil
    }
}
