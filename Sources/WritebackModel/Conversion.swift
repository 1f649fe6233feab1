import TraceIO

// Unwritten-extent conversion: the kworker, and the ≤3.7 flush in the caller.

extension WritebackModel {
    /// `ext4_convert_unwritten_extents` for the io_end's unwritten ranges
    /// (extents.c `CONVERT`, then `ext4_es_insert_extent` status W). Since
    /// e856f93e0fb2 a FAILED io_end is not converted ("or stale data may be
    /// exposed"); before, the error did not stop the conversion. `inline`:
    /// the submitter's `ext4_put_io_end`, which skips a FAILED io_end only
    /// from 6.15 on (6.12.117 has the worker's half of the change only).
    func convertUnwritten(_ ioRef: IoEndRef, inline: Bool = false, _ s: inout ModelState) {
        guard let io = s.ioEnd(ioRef) else { return }
        let skip = io.flags.contains(.failed)
            && (inline ? traits.inlinePutSkipsConversionOfFailedIO : traits.skipsConversionOfFailedIO)
        if !skip {
            for range in io.unwrittenRanges {
                s.inodes[ioRef.inode]!.extents.change(range, from: .unwritten, to: .written)
            }
        }
        s.updateIoEnd(ioRef) { $0.phase = .converted }
    }

    /// `ext4_release_io_end` (≥3.11: `ext4_finish_bio` → `folio_end_writeback`
    /// for chained bios, then free) / `ext4_free_io_end` (≤3.10: writeback
    /// already ended in `ext4_end_bio`; `i_ioend_count--`). The io_end leaves
    /// every list and the state.
    func releaseIoEnd(_ ioRef: IoEndRef, _ s: inout ModelState) {
        endWriteback(of: ioRef, &s)
        s.inodes[ioRef.inode]!.conversionList.removeAll { $0 == ioRef.serial }
        s.inodes[ioRef.inode]!.ioEnds[ioRef.serial] = nil
    }

    private func workerIdle(_ dev: DeviceNumber, _ s: ModelState) -> Blocker? {
        guard let sb = s.superblocks[dev] else { return .noFileSystem(dev) }
        return sb.worker.map { .workerBusy(dev, running: $0.inode) }
    }

    /// Takes the whole list (`list_replace_init`): those io_ends are now
    /// visible only to this run.
    private func drainList(_ inode: InodeRef, _ s: inout ModelState) -> [IoEndRef] {
        let taken = s.inodes[inode]!.conversionList.map { IoEndRef(inode: inode, serial: $0) }
        s.inodes[inode]!.conversionList = []
        for io in taken { s.updateIoEnd(io) { $0.phase = .converting } }
        return taken
    }

    /// `ext4_end_io_work`, ≤3.7: the io_end's own work item runs.
    ///
    /// 3.6 [page-io.c:124-166]: if the io_end is no longer listed, fsync
    /// converted it: free it. Else convert and free it, holding `i_mutex`
    /// (when `mutex_trylock` fails the work requeues itself: not enabled).
    ///
    /// 3.7 [page-io.c:164-231]: `ext4_do_flush_completed_IO(inode, io)` —
    /// `list_replace_init` into a local list; conversions and the final
    /// stage follow as separate steps.
    func ext4EndIoWork(_ ioRef: IoEndRef, _ s: inout ModelState) -> Blocker? {
        guard !traits.workPerInode else { return .notInProfile(traits.identity) }
        guard let io = s.ioEnd(ioRef), io.workQueued else { return .workNotQueued(.ioEnd(ioRef)) }
        if let r = workerIdle(ioRef.inode.dev, s) { return r }
        if !traits.workerDrainsWholeList {
            if let holder = s.inodes[ioRef.inode]!.mutexHolder { return .mutexHeld(ioRef.inode, holder: holder) }
            s.updateIoEnd(ioRef) { $0.workQueued = false }
            if io.phase == .queued {
                s.inodes[ioRef.inode]!.conversionList.removeAll { $0 == ioRef.serial }
                convertUnwritten(ioRef, &s)
            }
            releaseIoEnd(ioRef, &s)
            return nil
        }
        let taken = drainList(ioRef.inode, &s)
        s.superblocks[ioRef.inode.dev]!.worker = WorkerRun(inode: ioRef.inode, workIoEnd: ioRef, local: taken, converted: [])
        return nil
    }

    /// `ext4_end_io_rsv_work` (≥3.11): the inode's work starts. PENDING is
    /// cleared before it runs, so an io_end queued from now on queues the
    /// work again (research I5). `list_replace_init` of `i_rsv_conversion_list`.
    func ext4EndIoRsvWork(_ inode: InodeRef, _ s: inout ModelState) -> Blocker? {
        guard traits.workPerInode else { return .notInProfile(traits.identity) }
        guard s.inodes[inode]?.rsvWorkQueued == true else { return .workNotQueued(.inode(inode)) }
        if let r = workerIdle(inode.dev, s) { return r }
        s.inodes[inode]!.rsvWorkQueued = false
        let taken = drainList(inode, &s)
        if !taken.isEmpty {
            s.superblocks[inode.dev]!.worker = WorkerRun(inode: inode, workIoEnd: nil, local: taken, converted: [])
        }
        return nil
    }

    /// `ext4_convert_unwritten_io_end_vec` (≥3.11, from `ext4_end_io_end`) /
    /// `ext4_end_io` (3.7): the worker converts the first io_end of its local list.
    func ext4ConvertUnwrittenIoEndVec(_ ioRef: IoEndRef, _ s: inout ModelState) -> Blocker? {
        guard var run = s.superblocks[ioRef.inode.dev]?.worker, run.local.first == ioRef else {
            return .notNextForWorker(ioRef)
        }
        if let previous = run.converted.first, traits.workPerInode { return .previousNotReleased(previous) }
        convertUnwritten(ioRef, &s)
        run.local.removeFirst()
        run.converted.append(ioRef)
        s.superblocks[ioRef.inode.dev]!.worker = run
        return nil
    }

    /// `ext4_release_io_end` after the conversion (≥3.11): only now do the
    /// folios' writeback end (b0857d309fae).
    func ext4ReleaseIoEndStep(_ ioRef: IoEndRef, _ s: inout ModelState) -> Blocker? {
        guard traits.workPerInode else { return .notInProfile(traits.identity) }
        guard var run = s.superblocks[ioRef.inode.dev]?.worker, run.converted == [ioRef] else {
            return .notJustConverted(ioRef)
        }
        releaseIoEnd(ioRef, &s)
        run.converted = []
        s.superblocks[ioRef.inode.dev]!.worker = run.local.isEmpty ? nil : run
        return nil
    }

    /// 3.7 `ext4_do_flush_completed_IO` stages C–D: under the lock clear
    /// UNWRITTEN; an io_end whose own work is still QUEUED stays for that
    /// work to free; the running work's io_end is freed once converted.
    func ext4FreeIoEnds(_ inode: InodeRef, _ s: inout ModelState) -> Blocker? {
        guard !traits.workPerInode else { return .notInProfile(traits.identity) }
        guard let run = s.superblocks[inode.dev]?.worker, run.inode == inode, run.local.isEmpty else {
            return .workerHasConversionsLeft(inode)
        }
        for io in run.converted where io != run.workIoEnd {
            if s.ioEnd(io)?.workQueued != true { releaseIoEnd(io, &s) }
        }
        if let workIo = run.workIoEnd, s.ioEnd(workIo) != nil {
            s.updateIoEnd(workIo) { $0.workQueued = false }
            if s.ioEnd(workIo)!.phase == .converted { releaseIoEnd(workIo, &s) }
        }
        s.superblocks[inode.dev]!.worker = nil
        return nil
    }

    /// ≤3.7, in fsync / truncate / punch hole: `ext4_flush_completed_IO`
    /// (3.6 [fsync.c:78-116]: convert each listed io_end, leave it for its
    /// queued work to free) or `ext4_do_flush_completed_IO(inode, NULL)`
    /// (3.7: `list_replace_init`, convert, free those not QUEUED). It sees
    /// only the list — not an io_end whose bio completed but was not queued
    /// yet, nor one a worker already took.
    func flushCompletedIO(_ inode: InodeRef, _ s: inout ModelState) {
        let taken = drainList(inode, &s)
        for io in taken {
            convertUnwritten(io, &s)
            if s.ioEnd(io)?.workQueued != true && traits.workerDrainsWholeList { releaseIoEnd(io, &s) }
        }
    }

    /// `i_unwritten` (3.7) is not 0: an io_end flagged UNWRITTEN at mapping
    /// time (`ext4_set_io_unwritten_flag`) has not been converted yet.
    func unwrittenPending(_ inode: InodeRef, _ s: ModelState) -> Bool {
        s.inodes[inode]!.ioEnds.values.contains { $0.flags.contains(.unwritten) && $0.phase < .converted }
    }
}
