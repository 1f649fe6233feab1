import TraceIO

// What each actor could do next; `enabledTransitions` filters by the guards.

extension WritebackModel {
    func candidates(for actor: ActorRef, in s: ModelState) -> [Transition] {
        switch actor {
        case .task(let id): return taskCandidates(id, s)
        case .blockDevice: return blockDeviceCandidates(s)
        case .worker: return workerCandidates(s)
        case .reclaim: return reclaimCandidates(s)
        }
    }

    private func taskCandidates(_ id: Int, _ s: ModelState) -> [Transition] {
        guard let task = s.tasks[id] else { return [] }
        if let c = task.writeback {
            if let f = c.lockedFolio { return [.ext4BioWriteFolio(task: id, f)] }
            if let io = c.ownerReference { return [.ext4PutIoEnd(task: id, io)] }
            if let next = s.nextDirtyFolio(for: c) {
                // Submit what is built before waiting on a folio under writeback.
                if let io = c.ioEnd, s.folio(next)?.writeback == true {
                    return [.ext4IoSubmit(task: id, io)]
                }
                return [.mpageSubmitFolio(task: id, next)]
            }
            if let io = c.ioEnd { return [.ext4IoSubmit(task: id, io)] }
        }
        switch task.operation {
        case .bufferedWrite: return [.ext4DaWriteEnd(task: id)]
        case .writepages: return [.ext4WritepagesResult(task: id)]
        case .syncFile(let p):
            switch p.step {
            case .writeAndWait: return [.filemapFdatawaitRange(task: id)]
            case .flushCompletedIO: return [.ext4FlushCompletedIO(task: id)]
            case .unwrittenWait: return [.ext4UnwrittenWait(task: id)]
            case .commit: return [.ext4SyncFileReturn(task: id)]
            }
        case .removeBlocks(let p):
            switch p.step {
            case .pagecache: return [.truncatePagecache(task: id)]
            case .flushCompletedIO: return [.ext4FlushCompletedIO(task: id)]
            case .unwrittenWait: return [.ext4UnwrittenWait(task: id)]
            case .removeSpace: return [.ext4ExtRemoveSpace(task: id)]
            }
        case .evict(_, let step):
            switch step {
            case .ioendWait: return [.ext4IoendWait(task: id)]
            case .truncatePages: return [.truncateInodePagesFinal(task: id)]
            case .free: return [.ext4FreeInode(task: id)]
            }
        case .freeze: return [.ext4Freeze(task: id)]
        case .thaw: return [.ext4Unfreeze(task: id)]
        }
    }

    /// Issue every queued bio, complete every issued one (with an error too
    /// when the device is allowed to fail), and finish ≤3.10 completions.
    private func blockDeviceCandidates(_ s: ModelState) -> [Transition] {
        var out: [Transition] = []
        for inode in s.sortedInodes {
            let failing = s.superblocks[inode.dev]?.ioErrorsPossible ?? false
            let state = s.inodes[inode]!
            for serial in state.ioEnds.keys.sorted() {
                let io = state.ioEnds[serial]!
                let ref = IoEndRef(inode: inode, serial: serial)
                for (index, bio) in io.bios.enumerated() {
                    let b = BioRef(ioEnd: ref, index: index)
                    switch bio.status {
                    case .queued: out.append(.blkMqStartRequest(b))
                    case .issued:
                        out.append(.ext4EndBio(b, error: false))
                        if failing { out.append(.ext4EndBio(b, error: true)) }
                    default: break
                    }
                }
                if io.phase == .bioDone { out.append(.ext4AddCompleteIo(ref)) }
            }
        }
        return out
    }

    /// The running work's next step, or any queued work item.
    private func workerCandidates(_ s: ModelState) -> [Transition] {
        var out: [Transition] = []
        for dev in s.superblocks.keys.sorted() {
            if let run = s.superblocks[dev]!.worker {
                if traits.workPerInode, let done = run.converted.first {
                    out.append(.ext4ReleaseIoEnd(done))
                } else if let next = run.local.first {
                    out.append(.ext4ConvertUnwrittenIoEndVec(next))
                } else {
                    out.append(.ext4FreeIoEnds(run.inode))
                }
                continue
            }
            for inode in s.sortedInodes where inode.dev == dev {
                let state = s.inodes[inode]!
                if state.rsvWorkQueued { out.append(.ext4EndIoRsvWork(inode)) }
                for serial in state.ioEnds.keys.sorted() where state.ioEnds[serial]!.workQueued {
                    out.append(.ext4EndIoWork(IoEndRef(inode: inode, serial: serial)))
                }
            }
        }
        return out
    }

    /// Reclaim any reclaimable folio; read back any folio that was reclaimed
    /// while its inode has io_ends or unwritten extents (a reader that misses
    /// the page cache). Reading folios nobody wrote would only grow the state.
    private func reclaimCandidates(_ s: ModelState) -> [Transition] {
        var out: [Transition] = []
        for inode in s.sortedInodes {
            let state = s.inodes[inode]!
            for index in state.folios.keys.sorted() {
                out.append(.shrinkFolioList(FolioRef(inode: inode, index: index)))
            }
            for index in s.reclaimedFolios(of: inode) {
                out.append(.ext4ReadFolio(.reclaim, FolioRef(inode: inode, index: index)))
            }
        }
        return out
    }
}

extension ModelState {
    /// Folio indexes within i_size (or written by an io_end) that are not
    /// in the page cache.
    func reclaimedFolios(of inode: InodeRef) -> [UInt64] {
        guard let state = inodes[inode], let sb = superblocks[inode.dev] else { return [] }
        var indexes = Set<UInt64>()
        for io in state.ioEnds.values { indexes.formUnion(io.folios) }
        let sizeFolios = (state.sizeBlocks + sb.blocksPerFolio - 1) / sb.blocksPerFolio
        if sizeFolios <= 64 { indexes.formUnion(0..<sizeFolios) }
        return indexes.filter { state.folios[$0] == nil }.sorted()
    }
}
