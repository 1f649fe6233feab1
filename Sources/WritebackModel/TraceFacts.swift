import TraceIO

/// What a replay learns from a trace that is not a step of the model: the
/// geometry and mount options of a file system, changes made by kernel code
/// the model does not cover (direct I/O, fallocate), and the bounds that
/// prove an invisible change happened (research notes §4.3). The state
/// changes only through `WritebackModel.learn`, which says for each fact
/// what it means for the model.
public enum TraceFact: Hashable, Sendable {
    /// The file system's block size, as folio size over `blocksPerFolio`.
    case blockSize(DeviceNumber, blocksPerFolio: UInt64)
    /// An allocation during writeback made unwritten extents: the mount
    /// uses dioread_nolock.
    case dioreadNolock(DeviceNumber)
    /// A writeback pass mapped these blocks (`ext4_ext_map_blocks` for
    /// IO_SUBMIT, `ext4_da_write_pages_extent`), unwritten or not.
    case mapped(InodeRef, BlockRange, unwritten: Bool)
    /// A CONVERT that no io_end of the model covers: direct I/O or
    /// fallocate (not modelled) converted the unwritten extents of the
    /// range that no io_end's unwritten range touches.
    case convertedOutsideIoEnds(InodeRef, BlockRange)
    /// The trace converted the io_end's unwritten blocks at a point where
    /// the model could not (outside its worker's order).
    case ioEndConverted(IoEndRef)
    /// The submitter's `ext4_put_io_end` came before the io_end's bios
    /// completed: the kernel puts right after `ext4_io_submit` [6.18 inode.c
    /// ext4_do_writepages], the model at `ext4_writepages_result`. Shown by
    /// the conversion work running while the model still holds the
    /// submitter's reference on a completed io_end: the completion's
    /// `ext4_put_io_end_defer` was the last and queued it, no inline conversion.
    case submitterPutFirst(task: Int, IoEndRef)
    /// The folio left the page cache by truncation, eviction or
    /// invalidation, dirty or not.
    case folioTruncated(FolioRef)
    /// PG_writeback had ended on the inode's folios (bounds 3–5 of §4.3:
    /// `sb_clear_inode_writeback`, a wait followed by another event of the
    /// task, a deletion on a truncate path); nil: on every folio.
    case writebackEnded(InodeRef, only: Set<UInt64>?)
    /// `ext4_bio_write_folio` found no buffer of the folio to submit (all
    /// delayed or unmapped: the jbd2 commit's data=ordered writeout runs with
    /// `can_map = 0`): it redirtied the folio and, in kernels with 6.18.y's
    /// "fix stale xarray tags after writeback", started and at once ended its
    /// writeback (`sb_mark_inode_writeback`, `sb_clear_inode_writeback`, no
    /// bio). The folio leaves the task's io_end, dirty and not under writeback.
    case nothingSubmitted(task: Int, FolioRef)
    /// The task's operation ended, or was abandoned, without the model
    /// seeing its end.
    case operationEnded(task: Int)
    /// The trace writes back a folio the model holds clean: it was dirtied
    /// before the trace began, or by an event lost.
    case folioDirtied(FolioRef)
    /// The folios the task's writeback pass writes next, as the trace shows
    /// them (its TOWRITE tag); empty: nothing more.
    case writebackWrites(task: Int, folios: Set<UInt64>)
    /// A store dirtied the folio where the model could not fault it in:
    /// the fault went through.
    case faultedWritable(FolioRef)
    /// The worker converts this io_end before those ahead of it in its local list.
    case workerTakesFirst(IoEndRef)
    /// `workqueue_execute_end`: the worker's run on the file system is over.
    case workerRunEnded(DeviceNumber)
    /// These io_ends were added to `i_rsv_conversion_list` after the running
    /// work took it (`list_replace_init` in `ext4_do_flush_completed_IO`, a
    /// moment after the work started): they begin the next list, and the
    /// first of them queued the work again (`ext4_add_complete_io` on an
    /// empty list). The trace shows it by that `workqueue_queue_work`.
    case addedAfterTake([IoEndRef])
    /// These io_ends were added to `i_rsv_conversion_list` after the work
    /// started (`workqueue_execute_start`) but before its
    /// `list_replace_init`: the list was not empty, no work was queued, and
    /// the running work took them, after what it had taken, in this order.
    /// The trace shows it by the run converting one of them.
    case addedBeforeTake([IoEndRef])
    /// The running work converts this io_end, which the replay had put
    /// after its take (`addedAfterTake`): it was on the list the run took,
    /// and is the next it converts.
    case unconfirmedAddTaken(IoEndRef)
    /// `ext4_new_inode` returned this inode (number and generation).
    case inodeReallocated(InodeRef)
    /// FIFREEZE returned an error.
    case freezeFailed(DeviceNumber)
}

extension WritebackModel {
    /// Makes the state agree with a fact the trace shows.
    public func learn(_ fact: TraceFact, in s: inout ModelState) {
        switch fact {
        case .blockSize(let dev, let per):
            // Folios stay page-sized: a 1k-block file system has four
            // blocks per folio (`ext4_bio_write_folio` walks its buffers).
            s.superblocks[dev]?.blocksPerFolio = max(1, per)
        case .dioreadNolock(let dev):
            s.superblocks[dev]?.dioreadNolock = true
        case .mapped(let inode, let range, let unwritten):
            mapped(inode, range, unwritten: unwritten, &s)
        case .convertedOutsideIoEnds(let inode, let range):
            // An extent an io_end will convert stays the model's to convert.
            guard let i = s.inodes[inode] else { return }
            for run in i.extents.ranges(in: range, state: .unwritten)
            where !i.ioEnds.values.contains(where: { $0.unwrittenRanges.contains { $0.intersection(run) != nil } }) {
                s.inodes[inode]!.extents.set(run, to: .written)
            }
        case .ioEndConverted(let io):
            // `ext4_convert_unwritten_extents` ran for the io_end; its phase
            // is left to the steps the trace shows next.
            guard let ranges = s.ioEnd(io)?.unwrittenRanges else { return }
            for range in ranges { s.inodes[io.inode]!.extents.change(range, from: .unwritten, to: .written) }
        case .submitterPutFirst(let task, let io):
            guard var c = s.tasks[task]?.writeback, c.ownerReference == io,
                  let ioState = s.ioEnd(io), ioState.refcount == 1, ioState.allBiosComplete else { return }
            c.ownerReference = nil
            s.tasks[task]!.writeback = c
            s.updateIoEnd(io) { $0.refcount = 0 }
            if putDeferQueues(io, s) { addCompleteIo(io, &s) } else { releaseIoEnd(io, &s) }
        case .folioTruncated(let folio):
            // `truncate_inode_pages_range` / `delete_from_page_cache`.
            s.updateInode(folio.inode) { $0.folios[folio.index] = nil }
        case .writebackEnded(let inode, let only):
            guard let tagged = s.inodes[inode]?.folios.writebackIndexes, !tagged.isEmpty else { return }
            let ended = tagged.filter { only?.contains($0) ?? true }
            endWritebackSeen(ended.map { FolioRef(inode: inode, index: $0) }, &s)
        case .nothingSubmitted(let task, let folio):
            if let io = s.tasks[task]?.writeback?.ioEnd, s.ioEnd(io) != nil {
                let blocks = s.blocks(of: folio)
                s.updateIoEnd(io) { io in
                    io.folios.removeAll { $0 == folio.index }
                    io.ranges.removeAll { $0.intersection(blocks) != nil }
                    io.unwrittenRanges.removeAll { $0.intersection(blocks) != nil }
                    if io.unwrittenRanges.isEmpty { io.flags.remove(.unwritten) }
                }
                // An io_end that got no block: no bio will hold it, and the
                // pass's `ext4_put_io_end_defer` frees it unsubmitted.
                if let left = s.ioEnd(io), left.folios.isEmpty, left.bios.isEmpty {
                    s.inodes[io.inode]!.ioEnds[io.serial] = nil
                    s.tasks[task]!.writeback!.ioEnd = nil
                    if s.tasks[task]!.writeback!.ownerReference == io { s.tasks[task]!.writeback!.ownerReference = nil }
                } else if let left = s.ioEnd(io), left.folios.count == left.foliosInBios {
                    // An io_end reopened for another bio that got no block:
                    // the pass holds it again as after its last bio.
                    s.tasks[task]!.writeback!.ioEnd = nil
                    s.tasks[task]!.writeback!.ownerReference = io
                }
            }
            s.updateFolio(folio) {
                $0.writeback = false
                $0.dirty = true
                $0.lockedBy = nil
            }
        case .operationEnded(let task):
            endOperation(task, &s)
        case .folioDirtied(let folio):
            s.updateFolio(folio) { $0.dirty = true }
        case .writebackWrites(let task, let folios):
            s.tasks[task]?.writeback?.toWrite = folios
        case .faultedWritable(let folio):
            // `ext4_page_mkwrite` locked and unlocked the folio and made the
            // PTE writable; the store itself is the replay's next step.
            s.updateFolio(folio) {
                $0.pte = .writable
                $0.lockedBy = nil
            }
        case .workerTakesFirst(let io):
            guard var run = s.superblocks[io.inode.dev]?.worker else { return }
            run.local.removeAll { $0 == io }
            run.local.insert(io, at: 0)
            s.superblocks[io.inode.dev]!.worker = run
        case .workerRunEnded(let dev):
            s.superblocks[dev]?.worker = nil
        case .addedAfterTake(let ios):
            for io in ios {
                guard s.ioEnd(io)?.phase == .converting, var run = s.superblocks[io.inode.dev]?.worker,
                      run.inode == io.inode, run.local.contains(io) else { continue }
                run.local.removeAll { $0 == io }
                s.superblocks[io.inode.dev]!.worker = run.local.isEmpty && run.converted.isEmpty ? nil : run
                s.updateIoEnd(io) { $0.phase = .queued }
                s.inodes[io.inode]!.conversionList.append(io.serial)
                s.inodes[io.inode]!.rsvWorkQueued = true
            }
        case .addedBeforeTake(let ios):
            // In the order of their adds, after what the run had taken.
            for io in ios { takeIntoRunningWork(io, atFront: false, &s) }
        case .unconfirmedAddTaken(let io):
            // The next the run converts. It may have released all it took
            // (and left the worker): the run is still this inode's.
            takeIntoRunningWork(io, atFront: true, &s)
        case .inodeReallocated(let inode):
            // Whatever the model had under this incarnation is gone; the
            // allocation itself is `ext4NewInode`.
            s.inodes[inode] = nil
        case .freezeFailed(let dev):
            // `freeze_super`'s error path drops every level it took (SB_UNFROZEN).
            s.superblocks[dev]?.freeze = .unfrozen
        }
    }

    /// The blocks as a writeback pass mapped them: an unwritten mapping
    /// makes written blocks unwritten (and, where the model does not
    /// allocate unwritten itself — no dioread_nolock — holes too); a
    /// written one fills holes. Blocks a pass writes without mapping were
    /// allocated before (`mapped(…, unwritten: false)` over them).
    /// A queued io_end on its inode's `i_rsv_conversion_list` was in the list
    /// the running work took: it leaves the list for the run's local list
    /// (`list_replace_init` in `ext4_do_flush_completed_IO`), at the front
    /// or the back. The worker of its file system is this inode's run,
    /// started if none is; another inode's run leaves it where it is. The add
    /// found the list not empty, so it queued no work: with the list empty
    /// now, none is queued.
    private func takeIntoRunningWork(_ io: IoEndRef, atFront: Bool, _ s: inout ModelState) {
        var run = s.superblocks[io.inode.dev]?.worker ?? WorkerRun(inode: io.inode, workIoEnd: nil, local: [], converted: [])
        guard s.ioEnd(io)?.phase == .queued, run.inode == io.inode,
              let at = s.inodes[io.inode]?.conversionList.firstIndex(of: io.serial) else { return }
        s.inodes[io.inode]!.conversionList.remove(at: at)
        if s.inodes[io.inode]!.conversionList.isEmpty { s.inodes[io.inode]!.rsvWorkQueued = false }
        if atFront { run.local.insert(io, at: 0) } else { run.local.append(io) }
        s.superblocks[io.inode.dev]!.worker = run
        s.updateIoEnd(io) { $0.phase = .converting }
    }

    private func mapped(_ inode: InodeRef, _ range: BlockRange, unwritten: Bool, _ s: inout ModelState) {
        guard let i = s.inodes[inode] else { return }
        for run in i.extents.states(in: range) {
            switch (run.state, unwritten) {
            case (.written, true): s.inodes[inode]!.extents.set(run.range, to: .unwritten)
            case (.hole, false): s.inodes[inode]!.extents.set(run.range, to: .written)
            // The mount's dioread_nolock only here, where it decides: read
            // for every mapping, a profile's default would part a replay
            // standing for profiles that differ in it (`SuperblockState.dioreadNolock`).
            case (.hole, true) where !(s.superblocks[inode.dev].map(dioreadNolock) ?? false):
                s.inodes[inode]!.extents.set(run.range, to: .unwritten)
            default: break
            }
        }
    }
}
