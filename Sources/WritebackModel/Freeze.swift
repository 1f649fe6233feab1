import TraceIO

// FIFREEZE / FITHAW: freeze_super … ext4_freeze, thaw_super … ext4_unfreeze.

extension WritebackModel {
    /// `freeze_super` [6.18 fs/super.c:2074-2162]: SB_FREEZE_WRITE and
    /// SB_FREEZE_PAGEFAULT (new writers and, 3.6+, write faults block), then
    /// `sync_filesystem`: a WB_SYNC_ALL writeback of every dirty folio of the
    /// fs, done by this task. Writes and writeback during the ioctl are legal.
    func freezeSuper(_ task: Int, _ dev: DeviceNumber, _ s: inout ModelState) -> String? {
        if let r = idle(task, s) { return r }
        guard let sb = s.superblocks[dev] else { return "no file system on \(dev)" }
        guard sb.freeze == .unfrozen else { return "fs is \(sb.freeze)" }
        s.superblocks[dev]!.freeze = .freezing
        s.tasks[task] = TaskState(operation: .freeze(dev),
                                  writeback: WritebackCursor(scope: .device(dev), syncAll: true))
        return nil
    }

    /// The end of `freeze_super`: `sb_wait_write` saw every writer leave,
    /// `sync_fs` flushed the conversion workqueue (research I8), SB_FREEZE_FS,
    /// `ext4_freeze` flushed the journal; SB_FREEZE_COMPLETE and the ioctl returns.
    func ext4Freeze(_ task: Int, _ s: inout ModelState) -> String? {
        guard case .freeze(let dev)? = s.tasks[task]?.operation, let c = cursor(task, s) else {
            return "task \(task) is not freezing"
        }
        guard s.writebackIdle(c) else { return "sync_filesystem has folios left to write" }
        let inodes = s.inodes.filter { $0.key.dev == dev }
        if s.tasks.values.contains(where: {
            if case .bufferedWrite(let f) = $0.operation { return f.inode.dev == dev }
            return false
        }) { return "sb_wait_write: a writer is still inside" }
        for (_, inode) in inodes {
            if !inode.folios.dirtyIndexes.isEmpty || !inode.folios.writebackIndexes.isEmpty { return "a folio is dirty or under writeback" }
            if !inode.ioEnds.isEmpty || inode.rsvWorkQueued { return "conversions are pending (flush_workqueue)" }
        }
        if s.superblocks[dev]!.worker != nil { return "the conversion worker is running" }
        s.superblocks[dev]!.freeze = .frozen
        s.tasks[task] = nil
        return nil
    }

    /// `thaw_super` (FITHAW entry): the freeze is ending.
    func thawSuper(_ task: Int, _ dev: DeviceNumber, _ s: inout ModelState) -> String? {
        if let r = idle(task, s) { return r }
        guard s.superblocks[dev]?.freeze == .frozen else { return "fs is not frozen" }
        s.superblocks[dev]!.freeze = .thawing
        s.tasks[task] = TaskState(operation: .thaw(dev))
        return nil
    }

    /// `ext4_unfreeze` then SB_UNFROZEN: blocked writers and faults resume.
    func ext4Unfreeze(_ task: Int, _ s: inout ModelState) -> String? {
        guard case .thaw(let dev)? = s.tasks[task]?.operation else { return "task \(task) is not thawing" }
        s.superblocks[dev]!.freeze = .unfrozen
        s.tasks[task] = nil
        return nil
    }
}
