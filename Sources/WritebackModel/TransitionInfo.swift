import TraceIO

extension Transition {
    /// Who performs the transition.
    public var actor: ActorRef {
        switch self {
        case .ext4NewInode(let t, _), .unlockNewInode(let t, _), .ext4EvictInode(let t, _),
             .ext4IoendWait(let t), .truncateInodePagesFinal(let t), .ext4FreeInode(let t),
             .ext4DaWriteBegin(let t, _), .ext4DaWriteEnd(let t), .ext4PageMkwrite(let t, _),
             .userStore(let t, _), .filemapFault(let t, _), .zapPteRange(let t, _),
             .ext4Fallocate(let t, _, _), .ext4Writepages(let t, _, _), .mpageSubmitFolio(let t, _),
             .ext4BioWriteFolio(let t, _), .ext4IoSubmit(let t, _), .ext4PutIoEnd(let t, _),
             .ext4WritepagesResult(let t), .ext4SyncFile(let t, _, _), .filemapFdatawaitRange(let t),
             .ext4FlushCompletedIO(let t), .ext4UnwrittenWait(let t), .ext4SyncFileReturn(let t),
             .ext4Setattr(let t, _, _), .ext4PunchHole(let t, _, _, _), .truncatePagecache(let t),
             .ext4ExtRemoveSpace(let t), .freezeSuper(let t, _), .ext4Freeze(let t),
             .thawSuper(let t, _), .ext4Unfreeze(let t):
            return .task(t)
        case .blkMqStartRequest, .ext4EndBio, .ext4AddCompleteIo:
            return .blockDevice
        case .ext4EndIoWork, .ext4EndIoRsvWork, .ext4ConvertUnwrittenIoEndVec, .ext4ReleaseIoEnd,
             .ext4FreeIoEnds:
            return .worker
        case .shrinkFolioList:
            return .reclaim
        case .ext4ReadFolio(let actor, _):
            return actor
        }
    }

    /// The kernel function the transition models, for diagrams and reports.
    public var kernelFunction: String {
        switch self {
        case .ext4NewInode: return "ext4_new_inode"
        case .unlockNewInode: return "unlock_new_inode"
        case .ext4EvictInode: return "ext4_evict_inode"
        case .ext4IoendWait: return "ext4_ioend_wait"
        case .truncateInodePagesFinal: return "truncate_inode_pages_final"
        case .ext4FreeInode: return "ext4_free_inode"
        case .ext4DaWriteBegin: return "ext4_da_write_begin"
        case .ext4DaWriteEnd: return "ext4_da_write_end"
        case .ext4PageMkwrite: return "ext4_page_mkwrite"
        case .userStore: return "store via writable pte"
        case .filemapFault: return "filemap_fault"
        case .zapPteRange: return "zap_pte_range"
        case .ext4Fallocate: return "ext4_fallocate"
        case .ext4Writepages: return "ext4_writepages"
        case .mpageSubmitFolio: return "mpage_submit_folio"
        case .ext4BioWriteFolio: return "ext4_bio_write_folio"
        case .ext4IoSubmit: return "ext4_io_submit"
        case .ext4PutIoEnd: return "ext4_put_io_end"
        case .ext4WritepagesResult: return "ext4_writepages_result"
        case .blkMqStartRequest: return "blk_mq_start_request"
        case .ext4EndBio: return "ext4_end_bio"
        case .ext4AddCompleteIo: return "ext4_add_complete_io"
        case .ext4EndIoWork: return "ext4_end_io_work"
        case .ext4EndIoRsvWork: return "ext4_end_io_rsv_work"
        case .ext4ConvertUnwrittenIoEndVec: return "ext4_convert_unwritten_io_end_vec"
        case .ext4ReleaseIoEnd: return "ext4_release_io_end"
        case .ext4FreeIoEnds: return "ext4_free_io_end"
        case .ext4SyncFile: return "ext4_sync_file"
        case .filemapFdatawaitRange: return "filemap_fdatawait_range"
        case .ext4FlushCompletedIO: return "ext4_flush_completed_IO"
        case .ext4UnwrittenWait: return "ext4_unwritten_wait"
        case .ext4SyncFileReturn: return "ext4_sync_file_exit"
        case .ext4Setattr: return "ext4_setattr"
        case .ext4PunchHole: return "ext4_punch_hole"
        case .truncatePagecache: return "truncate_pagecache"
        case .ext4ExtRemoveSpace: return "ext4_ext_remove_space"
        case .freezeSuper: return "freeze_super"
        case .ext4Freeze: return "ext4_freeze"
        case .thawSuper: return "thaw_super"
        case .ext4Unfreeze: return "ext4_unfreeze"
        case .shrinkFolioList: return "shrink_folio_list"
        case .ext4ReadFolio: return "ext4_read_folio"
        }
    }

    /// The inode the transition names directly, if any.
    public var namedInode: InodeRef? {
        switch self {
        case .ext4NewInode(_, let i), .unlockNewInode(_, let i), .ext4EvictInode(_, let i),
             .ext4Fallocate(_, let i, _), .ext4Writepages(_, let i, _), .ext4SyncFile(_, let i, _),
             .ext4Setattr(_, let i, _), .ext4PunchHole(_, let i, _, _), .ext4EndIoRsvWork(let i),
             .ext4FreeIoEnds(let i):
            return i
        case .ext4DaWriteBegin(_, let f), .ext4PageMkwrite(_, let f), .userStore(_, let f),
             .filemapFault(_, let f), .zapPteRange(_, let f), .mpageSubmitFolio(_, let f),
             .ext4BioWriteFolio(_, let f), .shrinkFolioList(let f), .ext4ReadFolio(_, let f):
            return f.inode
        case .ext4IoSubmit(_, let io), .ext4PutIoEnd(_, let io), .ext4AddCompleteIo(let io),
             .ext4EndIoWork(let io), .ext4ConvertUnwrittenIoEndVec(let io), .ext4ReleaseIoEnd(let io):
            return io.inode
        case .blkMqStartRequest(let b), .ext4EndBio(let b, _):
            return b.ioEnd.inode
        default:
            return nil
        }
    }

    /// The device the transition names directly, if any.
    public var namedDevice: DeviceNumber? {
        switch self {
        case .freezeSuper(_, let d), .thawSuper(_, let d): return d
        default: return namedInode?.dev
        }
    }
}

extension ModelState {
    /// The inodes a transition can change: the one it names, or the one the
    /// task is working on. Rules look only here, so a check costs what the
    /// transition touches, not the size of the state.
    public func footprint(of t: Transition) -> (dev: DeviceNumber?, inodes: [InodeRef]) {
        let (dev, inodes, _) = footprintAndSyncingTask(of: t)
        return (dev, inodes)
    }

    /// `footprint(of:)`, and the actor's state when it is a task inside
    /// fsync — the one thing of the state before that fsync-before-conversion
    /// reads, should `t` end the fsync — from one lookup of the task: a
    /// replay asks both on every step.
    func footprintAndSyncingTask(of t: Transition)
        -> (dev: DeviceNumber?, inodes: [InodeRef], syncing: (id: Int, task: TaskState)?) {
        guard case .task(let id) = t.actor, let task = tasks[id] else {
            if let i = t.namedInode { return (i.dev, [i], nil) }
            return (t.namedDevice, [], nil)
        }
        var syncing: (Int, TaskState)?
        if case .syncFile = task.operation { syncing = (id, task) }
        if let i = t.namedInode { return (i.dev, [i], syncing) }
        var inodes: [InodeRef] = []
        var dev: DeviceNumber? = t.namedDevice
        switch task.operation {
        case .bufferedWrite(let f): inodes.append(f.inode)
        case .writepages(let i): inodes.append(i)
        case .syncFile(let p): inodes.append(p.inode)
        case .removeBlocks(let p): inodes.append(p.inode)
        case .evict(let i, _): inodes.append(i)
        case .freeze(let d), .thaw(let d): dev = d
        }
        if let c = task.writeback {
            // One at a time: a replay asks this on every step of writeback.
            if let i = c.lockedFolio?.inode, !inodes.contains(i) { inodes.append(i) }
            if let i = c.ioEnd?.inode, !inodes.contains(i) { inodes.append(i) }
            if let i = c.ownerReference?.inode, !inodes.contains(i) { inodes.append(i) }
        }
        return (dev ?? inodes.first?.dev, inodes, syncing)
    }
}
