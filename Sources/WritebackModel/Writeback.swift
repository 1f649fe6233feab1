import TraceIO

// A task inside ext4_writepages: the writepage protocol of seed 003 —
// lock, clear dirty (write-protect the PTEs), start writeback, unlock, submit.

extension ModelState {
    func inScope(_ inode: InodeRef, _ scope: WritebackScope) -> Bool {
        switch scope {
        case .inode(let i): return i == inode
        case .device(let d): return inode.dev == d
        }
    }

    /// The folio this writeback pass takes next, in index order (the kernel
    /// walks the mapping's DIRTY/TOWRITE tags in order). While an io_end is
    /// being built, only folios of its inode qualify. WB_SYNC_NONE skips
    /// folios under writeback; WB_SYNC_ALL will wait for them.
    func nextDirtyFolio(for cursor: WritebackCursor) -> FolioRef? {
        // The lowest (inode, index) that qualifies, found without sorting:
        // a replay asks this once per folio written, over page caches of
        // thousands of folios.
        func qualifies(_ f: FolioState) -> Bool { f.dirty && (!f.writeback || cursor.syncAll) }
        func candidateInode(_ inode: InodeRef) -> Bool {
            if let io = cursor.ioEnd { return io.inode == inode }
            return inScope(inode, cursor.scope) && inodes[inode]?.lifecycle == .live
        }
        let scan: [InodeRef]
        if let io = cursor.ioEnd { scan = [io.inode] }
        else if case .inode(let i) = cursor.scope { scan = candidateInode(i) ? [i] : [] }
        else { scan = sortedInodes.filter(candidateInode) }
        for inode in scan {
            guard let folios = inodes[inode]?.folios else { continue }
            // Walk the smaller of the TOWRITE and DIRTY tag sets.
            let dirty = folios.dirtyIndexes
            let tagged = cursor.toWrite.map { $0.count < dirty.count ? $0 : dirty } ?? dirty
            var lowest: UInt64?
            for index in tagged where lowest.map({ index < $0 }) ?? true {
                guard dirty.contains(index), cursor.toWrite?.contains(index) ?? true,
                      let f = folios[index], qualifies(f) else { continue }
                lowest = index
            }
            if let lowest { return FolioRef(inode: inode, index: lowest) }
        }
        return nil
    }

    /// The cursor has nothing left to do: no folio locked, no io_end open,
    /// no reference to drop, no dirty folio to take.
    func writebackIdle(_ cursor: WritebackCursor) -> Bool {
        cursor.lockedFolio == nil && cursor.ioEnd == nil && cursor.ownerReference == nil
            && nextDirtyFolio(for: cursor) == nil
    }
}

extension WritebackModel {
    func cursor(_ task: Int, _ s: ModelState) -> WritebackCursor? { s.tasks[task]?.writeback }

    /// `ext4_writepages` entry from the flusher (`wb_writeback`, WB_SYNC_NONE)
    /// or `sync_file_range`/`sync` (WB_SYNC_ALL).
    func ext4Writepages(_ task: Int, _ inode: InodeRef, _ syncAll: Bool, _ s: inout ModelState) -> Blocker? {
        if startPunchHoleWriteback(task, inode, &s) { return nil }
        if let r = idle(task, s) ?? live(inode, s) { return r }
        s.tasks[task] = TaskState(operation: .writepages(inode),
                                  writeback: WritebackCursor(scope: .inode(inode), syncAll: syncAll))
        return nil
    }

    /// `mpage_submit_folio` (6.18) / `mpage_da_submit_io` (3.6): `folio_lock`,
    /// then `folio_clear_dirty_for_io`, whose `folio_mkclean` write-protects
    /// every PTE and moves a dirty PTE bit into the folio before the folio's
    /// dirty bit is cleared. Allocates the pass's io_end (`ext4_init_io_end`)
    /// if it has none.
    func mpageSubmitFolio(_ task: Int, _ folio: FolioRef, _ s: inout ModelState) -> Blocker? {
        guard var c = cursor(task, s) else { return .taskNotAtStep(task: task) }
        guard c.lockedFolio == nil else { return .writebackMidFolio(task: task) }
        if let held = c.ownerReference {
            // The pass still holds the io_end its last bio went out with:
            // ≥3.11 the next folio of the same extent goes into a new bio of
            // that io_end (`io_submit_add_bh` → `io_submit_init_bio`, which
            // takes `ext4_get_io_end(io->io_end)`), until the pass puts it.
            guard takesNextBio(held, of: folio.inode, s) else { return .writebackMidFolio(task: task) }
            c.ioEnd = held
            c.ownerReference = nil
        }
        let next = s.nextDirtyFolio(for: c)
        guard next == folio else { return .notNextDirtyFolio(folio, next: next) }
        let f = s.folio(folio)!
        if let holder = f.lockedBy { return .folioLocked(folio, holder: holder) }
        guard !f.writeback else { return .folioUnderWriteback(folio) }
        if c.ioEnd == nil {
            let serial = s.inodes[folio.inode]!.nextIoEndSerial
            s.inodes[folio.inode]!.nextIoEndSerial += 1
            s.inodes[folio.inode]!.ioEnds[serial] = IoEndState()
            c.ioEnd = IoEndRef(inode: folio.inode, serial: serial)
        }
        s.updateFolio(folio) {
            $0.lockedBy = .task(task)
            if $0.pte == .writable { $0.pte = .readOnly }
            $0.pteDirty = false
            $0.dirty = false
        }
        c.lockedFolio = folio
        s.tasks[task]!.writeback = c
        return nil
    }

    /// Whether the io_end a writeback pass still holds after its last bio
    /// takes that pass's next bio of `inode` (`mpage_submit_folio`): ≥3.11,
    /// one io_end per pass of the mapping loop, while it is not yet queued
    /// for completion.
    public func takesNextBio(_ held: IoEndRef, of inode: InodeRef, _ s: ModelState) -> Bool {
        guard traits.refcountedIoEnd, held.inode == inode, let io = s.ioEnd(held) else { return false }
        return io.phase < .queued
    }

    /// `mpage_map_one_extent` + `ext4_bio_write_folio`: map the folio's blocks
    /// — a hole is allocated, unwritten under dioread_nolock (the io_end gets
    /// UNWRITTEN and an io_end_vec), a fallocated unwritten extent is written
    /// through PRE_IO (also UNWRITTEN) — then `__folio_start_writeback`, add
    /// to the bio, and `folio_unlock` (after `ext4_io_submit` in 6.18; no rule
    /// can tell the difference).
    func ext4BioWriteFolio(_ task: Int, _ folio: FolioRef, _ s: inout ModelState) -> Blocker? {
        guard var c = cursor(task, s), c.lockedFolio == folio, let ioRef = c.ioEnd else {
            return .taskNotAtStep(task: task)
        }
        guard let sb = s.superblocks[folio.inode.dev] else { return .noFileSystem(folio.inode.dev) }
        let blocks = s.blocks(of: folio)
        guard s.ioEnd(ioRef) != nil else { return .ioEndMissing(ioRef) }
        var unwritten: [BlockRange] = []
        for run in s.inodes[folio.inode]!.extents.states(in: blocks) {
            switch run.state {
            case .hole:
                let allocated: ExtentState = dioreadNolock(sb) ? .unwritten : .written
                s.inodes[folio.inode]!.extents.set(run.range, to: allocated)
                if allocated == .unwritten { unwritten.append(run.range) }
            case .unwritten:
                unwritten.append(run.range)
            case .written:
                break
            }
        }
        // In place: an io_end gathers every folio of its bio, and a copy
        // taken out and put back would copy its folio list per folio.
        s.updateIoEnd(ioRef) { io in
            io.unwrittenRanges += unwritten
            if !io.unwrittenRanges.isEmpty { io.flags.insert(.unwritten) }
            io.ranges.append(blocks)
            io.folios.append(folio.index)
            io.phase = .mapping
        }
        s.updateFolio(folio) {
            $0.writeback = true
            $0.lockedBy = nil
        }
        c.lockedFolio = nil
        s.tasks[task]!.writeback = c
        return nil
    }

    /// `ext4_io_submit` → `submit_bio` (`block_bio_queue`). ≥3.11 the bio
    /// holds its own io_end reference (`ext4_get_io_end`), the submitter
    /// keeps one until `ext4_put_io_end`; before, the io_end belongs to its bio.
    func ext4IoSubmit(_ task: Int, _ ioRef: IoEndRef, _ s: inout ModelState) -> Blocker? {
        guard var c = cursor(task, s), c.ioEnd == ioRef, c.lockedFolio == nil else {
            return .taskNotAtStep(task: task)
        }
        guard let io = s.ioEnd(ioRef) else { return .ioEndMissing(ioRef) }
        // The folios gathered since the io_end's previous bio (≥3.11 an
        // io_end carries every bio of one mapped extent).
        let carried = io.foliosInBios
        guard io.folios.count > carried else { return .ioEndEmpty(ioRef) }
        let ranges = io.ranges[carried...]
        let lo = ranges.map(\.lblk).min()!
        let hi = ranges.map(\.end).max()!
        s.updateIoEnd(ioRef) {
            $0.bios.append(BioState(range: BlockRange(lblk: lo, len: hi - lo), folios: Array($0.folios[carried...])))
            $0.phase = .submitted
            $0.refcount = traits.refcountedIoEnd ? $0.refcount + 1 : 1
        }
        c.ioEnd = nil
        if traits.refcountedIoEnd { c.ownerReference = ioRef }
        s.tasks[task]!.writeback = c
        return nil
    }

    /// `ext4_put_io_end` (≥3.11): the submitter drops its reference. If the
    /// bios already completed this is the last one and, for an io_end that
    /// needs conversion, the conversion runs inline here (C′ in the research
    /// notes: no workqueue events), then `ext4_release_io_end`.
    func ext4PutIoEnd(_ task: Int, _ ioRef: IoEndRef, _ s: inout ModelState) -> Blocker? {
        guard var c = cursor(task, s), c.ownerReference == ioRef else {
            return .taskNotAtStep(task: task)
        }
        c.ownerReference = nil
        s.tasks[task]!.writeback = c
        s.updateIoEnd(ioRef) { $0.refcount -= 1 }
        if s.ioEnd(ioRef)!.refcount == 0 {
            if deferCompletion(ioRef, s) {
                convertUnwritten(ioRef, inline: true, &s)
            }
            releaseIoEnd(ioRef, &s)
        }
        return nil
    }

    /// `ext4_writepages` returns (`ext4_writepages_result`).
    func ext4WritepagesResult(_ task: Int, _ s: inout ModelState) -> Blocker? {
        guard case .writepages? = s.tasks[task]?.operation, let c = cursor(task, s) else {
            return .taskNotAtStep(task: task)
        }
        guard s.writebackIdle(c) else { return .writebackNotFinished(task: task) }
        s.tasks[task] = nil
        return nil
    }
}
