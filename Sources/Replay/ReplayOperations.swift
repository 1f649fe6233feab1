import KernelEvents
import TraceIO
import WritebackModel

// fsync, truncate / punch hole, inode life, freeze, reclaim and re-read.

extension ProfileReplay {
    // MARK: fsync

    mutating func syncFileEnter(_ inode: ModelInode, datasync: Bool) {
        ensure(inode)
        syncEnter[now.pid] = now
        taskConversions[now.pid] = nil
        drive(.ext4SyncFile(task: Int(now.pid), inode, datasync: datasync))
    }

    /// `ext4_sync_file_exit`: the task went through the wait (so every folio
    /// it waited on had ended writeback — bound 4), (≤3.7) the flush, the
    /// commit, and returned. A failed fsync promises nothing.
    mutating func syncFileExit(_ inode: ModelInode, ret: Int64) {
        let pid = Int(now.pid)
        defer { syncEnter[now.pid] = nil; spans[now.pid] = nil }
        guard case .syncFile? = state.tasks[pid]?.operation else { return }
        guard ret == 0 else { releaseTask(pid); return }
        putOwnerReference(pid)
        learn(.writebackWrites(task: pid, folios: []))
        drive(.filemapFdatawaitRange(task: pid), object: "\(inode)",
              past: [.folioUnderWriteback, .folioLocked, .writebackNotFinished])
        if traits.flushesCompletedIO { flushCompletedIO(pid, inode) }
        if traits.flushWaitsForUnwritten { drive(.ext4UnwrittenWait(task: pid), past: [.unwrittenPending, .taskNotAtStep]) }
        drive(.ext4SyncFileReturn(task: pid))
        releaseTask(pid)
    }

    // MARK: Truncate and punch hole

    mutating func punchHole(_ inode: ModelInode, range: BlockRange, freed: BlockRange) {
        ensure(inode)
        inFileOperation.insert(now.pid)
        drive(.ext4PunchHole(task: Int(now.pid), inode, range, freed: freed))
    }

    /// `ext4_ext_remove_space(start, end)`: from a punch hole already begun,
    /// or from `ext4_truncate` (setattr shrinking i_size to `start`). The
    /// page cache was truncated before (its deletions are in the trace).
    mutating func removeSpace(_ inode: ModelInode, start: UInt64) {
        ensure(inode)
        let pid = Int(now.pid)
        switch state.tasks[pid]?.operation {
        case .evict?: return
        case .removeBlocks?: break
        default:
            drive(.ext4Setattr(task: pid, inode, newSizeBlocks: start))
        }
        guard case .removeBlocks? = state.tasks[pid]?.operation else { return }
        drive(.truncatePagecache(task: pid), object: "\(inode)", past: [.folioUnderWriteback, .folioLocked])
        if traits.flushesCompletedIO { flushCompletedIO(pid, inode) }
        if traits.flushWaitsForUnwritten { drive(.ext4UnwrittenWait(task: pid), past: [.unwrittenPending, .taskNotAtStep]) }
        drive(.ext4ExtRemoveSpace(task: pid))
    }

    /// End of a truncate or fallocate: a punch that removed nothing leaves
    /// no step to finish, and the task no longer dirties folios itself.
    mutating func removalEnded() {
        inFileOperation.remove(now.pid)
        if case .removeBlocks? = state.tasks[Int(now.pid)]?.operation { releaseTask(Int(now.pid)) }
    }

    // MARK: Inode life

    mutating func allocateInode(_ inode: ModelInode) {
        mount(inode.dev)
        let pid = Int(now.pid)
        if state.tasks[pid] != nil { releaseTask(pid) }
        if let old = state.inodes[inode], old.lifecycle != .freed {
            diverge(.ext4NewInode(task: pid, inode), object: "\(inode)", reason: "the inode number is still in use in the model")
        }
        learn(.inodeReallocated(inode))
        drive(.ext4NewInode(task: pid, inode))
        drive(.unlockNewInode(task: pid, inode))
        // A new incarnation: its freed count starts again.
        prunedAtFreed[inode] = nil
    }

    /// `ext4_evict_inode`: (≤3.10) wait for io_ends, drop the page cache;
    /// an inode still linked is destroyed at the end of evict, an unlinked
    /// one at `ext4_free_inode`.
    ///
    /// An unlinked inode's `truncate_inode_pages_final` is taken here only
    /// if no folio is under writeback: its first pass drops the folios it
    /// can, its second waits for each folio's writeback before dropping it
    /// (`truncate_inode_pages_range`, mm/truncate.c), so the trace shows
    /// the wait as the evicting task's later deletions and its
    /// `ext4_free_inode`; the step is finished there (`finishFinalTruncate`).
    mutating func evictInode(_ inode: ModelInode, nlink: Int64) {
        ensure(inode)
        let pid = Int(now.pid)
        drive(.ext4EvictInode(task: pid, inode), past: [.inodeReferenced])
        guard case .evict? = state.tasks[pid]?.operation else { return }
        if traits.evictWaitsForIoEnds { drive(.ext4IoendWait(task: pid), past: [.ioEndsPending]) }
        if nlink == 0, finalTruncateWaitsForWriteback(pid) { return }
        finishFinalTruncate(pid, inode)
        if nlink > 0 { freeInode(inode) }
    }

    /// Whether `truncate_inode_pages_final` is refused only because a folio
    /// is under writeback, a wait the trace can still show ending.
    mutating func finalTruncateWaitsForWriteback(_ pid: Int) -> Bool {
        do {
            applied(.truncateInodePagesFinal(task: pid), try model.apply(.truncateInodePagesFinal(task: pid), in: &state))
            return false
        } catch {
            return error.blocker.kind == .folioUnderWriteback
        }
    }

    /// The evicting task is past `truncate_inode_pages_final`: every folio's
    /// writeback must have ended (a divergence where the model disagrees).
    mutating func finishFinalTruncate(_ pid: Int, _ inode: ModelInode) {
        guard case .evict(_, .truncatePages)? = state.tasks[pid]?.operation else { return }
        drive(.truncateInodePagesFinal(task: pid), object: "\(inode)", past: [.folioUnderWriteback, .folioLocked])
    }

    mutating func freeInode(_ inode: ModelInode) {
        let pid = Int(now.pid)
        guard case .evict(let evicting, _)? = state.tasks[pid]?.operation, evicting == inode else { return }
        finishFinalTruncate(pid, inode)
        guard case .evict(_, .free)? = state.tasks[pid]?.operation else { return }
        drive(.ext4FreeInode(task: pid))
        state.pruneFreedInodes()
        // An inode the model forgot may come back with its count at zero.
        prunedAtFreed = prunedAtFreed.filter { state.inodes[$0.key] != nil }
        pruneTrails(of: inode)
    }

    // MARK: Freeze

    mutating func freezeEntered(dev: DeviceNumber?) {
        freezeEnter[now.pid] = (now, dev)
        if let dev { beginFreeze(dev) }
    }

    /// `ext4_sync_fs` inside FIFREEZE names the device being frozen.
    mutating func syncFs(dev: DeviceNumber) {
        guard let (_, known) = freezeEnter[now.pid], known == nil else { return }
        freezeEnter[now.pid]!.1 = dev
        beginFreeze(dev)
    }

    mutating func beginFreeze(_ dev: DeviceNumber) {
        mount(dev)
        let pid = Int(now.pid)
        if state.tasks[pid] != nil { releaseTask(pid) }
        drive(.freezeSuper(task: pid, dev), past: [.freezeBlocks])
    }

    /// FIFREEZE returned: 0 means SB_FREEZE_COMPLETE.
    mutating func freezeReturned(ret: Int64) {
        let pid = Int(now.pid)
        guard let (_, dev) = freezeEnter.removeValue(forKey: now.pid) else { return }
        var target = dev
        if target == nil, state.superblocks.count == 1 { target = state.superblocks.keys.first }
        guard let target else { return }
        if dev == nil { beginFreeze(target) }
        guard ret == 0 else {
            releaseTask(pid)
            learn(.freezeFailed(target))
            return
        }
        learn(.writebackWrites(task: pid, folios: []))
        // FIFREEZE returned 0: whatever the model still waits for, the
        // freeze completed.
        drive(.ext4Freeze(task: pid), object: "\(target)",
              past: [.writebackNotFinished, .writerInside, .folioDirty, .folioUnderWriteback, .conversionsPending, .workerBusy])
        frozenAt[target] = now
    }

    mutating func thawEntered() {
        guard let dev = state.superblocks.first(where: { $0.value.freeze == .frozen })?.key else { return }
        let pid = Int(now.pid)
        if state.tasks[pid] != nil { releaseTask(pid) }
        drive(.thawSuper(task: pid, dev))
        frozenAt[dev] = nil
    }

    mutating func thawReturned() {
        guard case .thaw? = state.tasks[Int(now.pid)]?.operation else { return }
        drive(.ext4Unfreeze(task: Int(now.pid)))
    }

    // MARK: Page cache

    /// `mm_filemap_add_to_page_cache` outside a write: a read (read_folio,
    /// readahead, a read fault) brings the folio in from disk.
    mutating func folioAdded(_ folio: FolioRef) {
        let pid = Int(now.pid)
        if case .bufferedWrite? = state.tasks[pid]?.operation { return }
        ensure(folio.inode)
        guard state.folio(folio) == nil else { return }
        let actor: ActorRef = state.tasks[pid] == nil ? .task(pid) : .reclaim
        drive(.ext4ReadFolio(actor, folio), object: "\(folio)")
    }

    /// `mm_filemap_delete_from_page_cache`: truncate, evict, invalidation or
    /// reclaim. Only a clean, idle folio can be reclaimed; a dirty or mapped
    /// one is leaving through truncation. A folio under writeback can leave
    /// by neither (I10): the trace shows writeback had ended.
    mutating func folioDeleted(_ folio: FolioRef) {
        guard let f = state.folio(folio) else { return }
        let pid = Int(now.pid)
        switch state.tasks[pid]?.operation {
        case .evict(let inode, .truncatePages)? where f.writeback:
            // The second pass dropped a folio only after its writeback ended.
            finishFinalTruncate(pid, inode)
            learn(.folioTruncated(folio))
            return
        case .evict?, .removeBlocks?:
            learn(.folioTruncated(folio))
            return
        default: break
        }
        if f.dirty || f.pte != .none || f.lockedBy != nil {
            learn(.folioTruncated(folio))
            return
        }
        drive(.shrinkFolioList(folio), object: "\(folio)", past: [.folioUnderWriteback])
    }

    // MARK: ≤3.7 flush of completed io_ends

    /// `ext4_flush_completed_IO` in fsync / truncate (≤3.7): converts in
    /// the caller; remembers what it converted so that a later CONVERT in
    /// the trace shows the model was wrong to (a divergence).
    mutating func flushCompletedIO(_ pid: Int, _ inode: ModelInode) {
        let before = state.inodes[inode]?.extents.runs.filter { $0.state == .unwritten }.map(\.range) ?? []
        drive(.ext4FlushCompletedIO(task: pid))
        guard let extents = state.inodes[inode]?.extents else { return }
        let own = taskConversions[Int32(pid)] ?? []
        for range in before {
            for converted in extents.ranges(in: range, state: .written) {
                flushConverted[inode, default: []].append(converted)
                // A conversion in the caller shows CONVERT events on the caller.
                guard !own.contains(where: { $0.intersection(converted) != nil }) else { continue }
                record(Divergence(eventIndex: now.index, timestamp: now.timestamp, kernelFunction: "ext4_flush_completed_IO",
                                  kind: .fsync, object: "\(inode) blocks \(converted)",
                                  reason: "the model converts these blocks in the flushing task, which shows no CONVERT for them",
                                  expected: ["ext4_flush_completed_IO converting in the fsync task (CONVERT on the caller)"],
                                  observed: "no CONVERT on the caller before \(names[now.name])"),
                       object: object(of: .ext4FlushCompletedIO(task: pid)))
            }
        }
        taskConversions[Int32(pid)] = nil
        if (flushConverted[inode]?.count ?? 0) > 4096 { flushConverted[inode]!.removeFirst(2048) }
    }
}
