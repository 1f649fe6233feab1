import TraceIO

// The block layer and ext4_end_bio (irq context).

extension WritebackModel {
    /// `blk_mq_start_request` (`block_rq_issue`): the request goes to the device.
    func blkMqStartRequest(_ bio: BioRef, _ s: inout ModelState) -> Blocker? {
        guard s.bio(bio)?.status == .queued else { return .bioNotQueued(bio) }
        s.updateIoEnd(bio.ioEnd) { $0.bios[bio.index].status = .issued }
        return nil
    }

    /// `ext4_end_bio` after `block_rq_complete`.
    ///
    /// ≤3.10 [3.6 page-io.c:195-257; 3.7 page-io.c:266-326]: `put_io_page` →
    /// `end_page_writeback` for every page first; an io_end that is not
    /// UNWRITTEN is freed; an UNWRITTEN one is queued by the rest of the
    /// handler (`ext4AddCompleteIo`), a separate step because another CPU
    /// can run between the two (Dmitry's diagram in seed 002).
    ///
    /// ≥3.11 [6.18 page-io.c:349-395]: on error set FAILED. If the completion
    /// is deferred, chain the bio and `ext4_put_io_end_defer`; else drop the
    /// reference first, then `ext4_finish_bio` → `folio_end_writeback`.
    func ext4EndBio(_ bio: BioRef, error: Bool, _ s: inout ModelState) -> Blocker? {
        guard s.bio(bio)?.status == .issued else { return .bioNotInFlight(bio) }
        let ioRef = bio.ioEnd
        s.updateIoEnd(ioRef) {
            $0.bios[bio.index].status = error ? .completedError : .completedOK
            if error { $0.flags.insert(.failed) }
        }
        if traits.endsWritebackBeforeConversion {
            endWriteback(of: ioRef, &s)
            s.updateIoEnd(ioRef) { $0.phase = .bioDone }
            if !s.ioEnd(ioRef)!.flags.contains(.unwritten) { releaseIoEnd(ioRef, &s) }
            return nil
        }
        let deferred = deferCompletion(ioRef, s)
        s.updateIoEnd(ioRef) {
            $0.refcount -= 1
            if $0.allBiosComplete { $0.phase = .bioDone }
        }
        if s.ioEnd(ioRef)!.refcount == 0 {
            if deferred || putDeferQueues(ioRef, s) {
                addCompleteIo(ioRef, &s)
            } else {
                releaseIoEnd(ioRef, &s)
            }
        }
        if !deferred { endWriteback(of: bio, &s) }
        return nil
    }

    /// `ext4_finish_bio` for one bio: `folio_end_writeback` on the folios
    /// it carries; the io_end's other bios keep theirs under writeback.
    func endWriteback(of bio: BioRef, _ s: inout ModelState) {
        guard let io = s.ioEnd(bio.ioEnd), !io.writebackEnded, bio.index < io.bios.count else { return }
        for index in io.bios[bio.index].folios {
            s.updateFolio(FolioRef(inode: bio.ioEnd.inode, index: index)) { $0.writeback = false }
        }
    }

    /// `ext4_add_complete_io` as its own step (≤3.10 only, see `ext4EndBio`).
    func ext4AddCompleteIoStep(_ ioRef: IoEndRef, _ s: inout ModelState) -> Blocker? {
        guard traits.endsWritebackBeforeConversion else { return .notInProfile(traits.identity) }
        guard let io = s.ioEnd(ioRef), io.phase == .bioDone, io.flags.contains(.unwritten) else {
            return .ioEndNotCompleted(ioRef, s.ioEnd(ioRef)?.phase)
        }
        addCompleteIo(ioRef, &s)
        return nil
    }

    /// `ext4_io_end_defer_completion` [6.18 page-io.c:237-247]: UNWRITTEN with
    /// a non-empty io_end_vec, or FAILED under data_err=abort. 3.11: UNWRITTEN
    /// with a size (`ext4_put_io_end_defer` [3.11 page-io.c:278-287]).
    func deferCompletion(_ ioRef: IoEndRef, _ s: ModelState) -> Bool {
        guard let io = s.ioEnd(ioRef) else { return false }
        if io.flags.contains(.unwritten) && !io.unwrittenRanges.isEmpty { return true }
        // The profile is asked last: a replay of several profiles as one
        // (`TraitLog`) parts them only where their answers can differ.
        guard io.flags.contains(.failed), s.superblocks[ioRef.inode.dev]?.dataErrAbort ?? false else { return false }
        return traits.defersFailedIoEndUnderDataErrAbort
    }

    /// What `ext4_put_io_end_defer` queues at the last reference. 6.15 tests
    /// the flags open-coded (UNWRITTEN or FAILED) and so queues a FAILED
    /// io_end that `ext4_end_bio` did not defer (c678bdc99875's message).
    func putDeferQueues(_ ioRef: IoEndRef, _ s: ModelState) -> Bool {
        if deferCompletion(ioRef, s) { return true }
        guard let io = s.ioEnd(ioRef), !io.flags.intersection([.unwritten, .failed]).isEmpty else { return false }
        return traits.putDeferDisagreesWithEndBio
    }

    /// `end_page_writeback` / `folio_end_writeback` for the io_end's folios.
    func endWriteback(of ioRef: IoEndRef, _ s: inout ModelState) {
        guard let io = s.ioEnd(ioRef), !io.writebackEnded else { return }
        for index in io.folios {
            s.updateFolio(FolioRef(inode: ioRef.inode, index: index)) { $0.writeback = false }
        }
        s.updateIoEnd(ioRef) { $0.writebackEnded = true }
    }

    /// `ext4_add_complete_io` [3.7 page-io.c:146-162; 6.18 page-io.c:250-269]
    /// (open-coded in 3.6 `ext4_end_bio`): append to the inode's list and
    /// queue the work — 3.6 every time, 3.7+ only if the list was empty.
    func addCompleteIo(_ ioRef: IoEndRef, _ s: inout ModelState) {
        let inode = ioRef.inode
        let wasEmpty = s.inodes[inode]!.conversionList.isEmpty
        s.inodes[inode]!.conversionList.append(ioRef.serial)
        s.updateIoEnd(ioRef) { $0.phase = .queued }
        if traits.workPerInode {
            if wasEmpty { s.inodes[inode]!.rsvWorkQueued = true }
        } else if wasEmpty || !traits.queuesWorkOnlyWhenListEmpty {
            // (The trait only where it decides: see `KernelTraits`.)
            s.updateIoEnd(ioRef) { $0.workQueued = true }
        }
    }
}
