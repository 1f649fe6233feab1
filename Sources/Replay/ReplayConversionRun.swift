import EventGraph
import KernelEvents
import TraceIO
import WritebackModel

// The conversion work (kworker): a run of ext4_end_io_rsv_work takes the
// inode's list, converts what it took and ends it; a flush or the
// submitter's put converts outside a run.

extension ProfileReplay {
    /// `workqueue_execute_start` of ext4's conversion work. `inode`: the
    /// inode the event graph tied the work to, if it has by now; otherwise
    /// an ext4 event inside the run may tie it later
    /// (`conversionWorkOwnerLearned`), or nothing does and the run is
    /// another file system's.
    mutating func conversionWorkStarted(_ work: WorkID, _ inode: ModelInode?, address: UInt64) {
        runs[now.pid] = WorkRun(work: work, address: address, start: now, inode: nil)
        guard let inode else { return }
        startRun(inode)
        // ≤3.7 the work belongs to one io_end: it runs now (3.7 takes the
        // whole list here, list_replace_init — Kara's CPU1 in seed 002).
        if !traits.workPerInode, state.superblocks[inode.dev]?.worker == nil,
           let serial = state.inodes[inode]?.ioEnds.filter({ $0.value.workQueued }).keys.min() {
            let io = IoEndRef(inode: inode, serial: serial)
            runs[now.pid]?.converted.append(io)
            drive(.ext4EndIoWork(io))
            note(io, "ext4_end_io_work: the io_end's work runs")
        }
    }

    /// The graph tied the running work item to `inode` at this event.
    mutating func conversionWorkOwnerLearned(_ work: WorkID, _ inode: ModelInode) {
        guard let run = runs[now.pid], run.work == work, run.inode == nil else { return }
        startRun(inode)
    }

    /// `ext4_end_io_rsv_work` (≥3.11) starts for this inode on this kworker,
    /// and takes the inode's list (`takeList`).
    mutating func startRun(_ inode: ModelInode) {
        guard var run = runs[now.pid], run.inode == nil else { return }
        run.inode = inode
        runs[now.pid] = run
        takeList(now.pid)
    }

    /// ≥3.11 `ext4_do_flush_completed_IO`: the run on `pid` takes its
    /// inode's list (`list_replace_init` under `i_completed_io_lock`, the
    /// first thing `ext4_end_io_rsv_work` does [6.18 page-io.c:271-296]):
    /// at the run's `workqueue_execute_start`, or where the graph ties the
    /// run to its inode. An io_end added after the take queues the work
    /// again and waits for the next run. A completion on another CPU may
    /// still add between the tracepoint and the take, without queueing the
    /// work (the list was not empty): the run shows it by converting that
    /// io_end (`addedBeforeTake`). A `workqueue_queue_work` of the same work
    /// from a completion before the inode was known (`requeuedFrom`) shows
    /// the take came before that completion's add. An add the trace has not
    /// yet shown done stays for the next run (`leaveUnconfirmedAdds`).
    mutating func takeList(_ pid: Int32) {
        guard traits.workPerInode, var run = runs[pid], let inode = run.inode, run.takenAt == nil else { return }
        run.takenAt = now.index
        runs[pid] = run
        if state.superblocks[inode.dev]?.worker?.inode == inode { return }
        let later = run.requeuedFrom.map { from in
            run.adds.filter { $0.index >= from && $0.io.inode == inode && state.ioEnd($0.io)?.phase == .queued }.map(\.io)
        } ?? []
        drive(.ext4EndIoRsvWork(inode), past: [.workerBusy, .workNotQueued])
        if !later.isEmpty { learn(.addedAfterTake(later)) }
        leaveUnconfirmedAdds(pid, inode)
    }

    /// `block_rq_complete` is printed at the start of `blk_update_request`
    /// (block/blk-mq.c, 6.1 and 6.18); the io_end joins the inode's list
    /// after it, in the bio's `ext4_end_bio` → `ext4_put_io_end_defer` →
    /// `ext4_add_complete_io` (fs/ext4/page-io.c, 3.11 on), which shows
    /// only as a `workqueue_queue_work` when the list was empty. The add is
    /// done by that CPU's next event, not at the completion: a softirq held
    /// up in between (6.1's `fsync_unwritten`: 22 ms) lets runs elsewhere
    /// take their lists first. So a run that takes its list while the CPU of
    /// an add has shown nothing since leaves that io_end for the next run
    /// (the add came after the take, as the CPU's `workqueue_queue_work`
    /// then shows) — unless this run converts it (`unconfirmedAddTaken`).
    private mutating func leaveUnconfirmedAdds(_ pid: Int32, _ inode: ModelInode) {
        guard !unconfirmedAdds.isEmpty, let worker = state.superblocks[inode.dev]?.worker, worker.inode == inode else { return }
        let left = unconfirmedAdds.keys.sorted().flatMap { unconfirmedAdds[$0]! }.filter { worker.local.contains($0) }
        guard !left.isEmpty else { return }
        learn(.addedAfterTake(left))
        runs[pid]?.leftUnconfirmed.formUnion(left)
        for io in left { note(io, "ext4_add_complete_io: not yet shown done when the worker took the list; left for the next run") }
    }

    /// The run converts an io_end it left at its take (`leaveUnconfirmedAdds`):
    /// the add came before the take after all.
    private mutating func unconfirmedAddTaken(_ io: IoEndRef) {
        guard runs[now.pid]?.leftUnconfirmed.remove(io) != nil, state.ioEnd(io)?.phase == .queued else { return }
        learn(.unconfirmedAddTaken(io))
        note(io, "ext4_add_complete_io: came before the worker took the list (the run converts it)")
    }

    /// `workqueue_queue_work` of a conversion work struct from a completion
    /// (`ext4_add_complete_io` found the list empty). A run of the same
    /// struct took the list before that completion's add: if its take has
    /// not shown yet, it is now; if the model let it take later than the
    /// add, the io_ends added from that completion up to the take begin the
    /// next list.
    mutating func conversionWorkQueued(_ address: UInt64, _ inode: ModelInode?) {
        guard traits.workPerInode else { return }
        takenBeforeRequeue(address)
        submitterPutFirst(of: inode, tasks: [Int(now.pid)])
        // Queued by the completion just before on this CPU, which the
        // model's ext4_end_bio did not queue: its submitter had put first.
        if let inode, let completed = recentCompletions[now.cpu], !completed.isEmpty {
            noteHidden(model.takeHiddenSteps(queueingWorkOf: inode, completing: completed, in: &state))
        }
    }

    /// A run of the queued struct took its list before the completion's add.
    private mutating func takenBeforeRequeue(_ address: UInt64) {
        guard let cause = recentAdds[now.cpu]?.index,
              let (pid, run) = runs.first(where: { $0.value.address == address }) else { return }
        runs[pid]!.requeuedFrom = min(run.requeuedFrom ?? cause, cause)
        guard let taken = run.takenAt else {
            takeList(pid)
            return
        }
        guard cause < taken, let inode = run.inode else { return }
        // The causing completion's own adds too, when no run was waiting
        // to take then: `block_rq_complete` is printed at the start of
        // `blk_update_request`, the add comes in the bio's `ext4_end_bio`
        // after it, and the run may start and take in between.
        let causing = (recentAdds[now.cpu]?.ios ?? []).filter { $0.inode == inode }
        let early = run.adds.filter { $0.index >= cause && $0.index < taken && $0.io.inode == inode }.map(\.io)
        let added = causing + early.filter { !causing.contains($0) }
        if !added.isEmpty { learn(.addedAfterTake(added)) }
    }

    /// The conversion work is queued or runs, not queued in the model, while
    /// a task still holds its reference on a completed io_end: that task had
    /// put it right after `ext4_io_submit`, so the bio's completion dropped
    /// the last reference and queued the work (no inline conversion).
    mutating func submitterPutFirst(of inode: ModelInode?, tasks: [Int]? = nil) {
        var found: [(task: Int, io: IoEndRef)] = []
        for task in tasks ?? state.tasks.keys.sorted() {
            guard let io = state.tasks[task]?.writeback?.ownerReference, inode == nil || io.inode == inode,
                  state.inodes[io.inode]?.rsvWorkQueued == false,
                  let ioState = state.ioEnd(io), ioState.refcount == 1, ioState.allBiosComplete else { continue }
            found.append((task, io))
        }
        for (task, io) in found {
            learn(.submitterPutFirst(task: task, io))
            note(io, "ext4_put_io_end: the submitter's reference went first; the completion queued the conversion")
        }
    }

    /// The io_end of `inode` whose unwritten blocks overlap `range` and that
    /// still waits for its conversion.
    func ioEndAwaitingConversion(_ inode: ModelInode, _ range: BlockRange) -> IoEndRef? {
        ioEndsAwaitingConversion(inode, range).first
    }

    /// Every io_end of the inode, oldest first, with unwritten blocks in `range` still to convert.
    func ioEndsAwaitingConversion(_ inode: ModelInode, _ range: BlockRange) -> [IoEndRef] {
        guard let ioEnds = state.inodes[inode]?.ioEnds else { return [] }
        return ioEnds.keys.sorted().filter { serial in
            let io = ioEnds[serial]!
            return io.phase < .converted && io.unwrittenRanges.contains { $0.intersection(range) != nil }
        }.map { IoEndRef(inode: inode, serial: $0) }
    }

    /// A CONVERT (`ext4_ext_map_blocks_enter` with CONVERT): some io_end's
    /// blocks go from unwritten to written, in a worker run or inline.
    mutating func conversionSeen(_ inode: ModelInode, _ range: BlockRange) {
        ensure(inode)
        convertEventAt = now.index
        let inRun = runs[now.pid] != nil
        if inRun {
            startRun(inode)
            takeList(now.pid)
        }
        if !inRun, syncEnter[now.pid] != nil || state.tasks[Int(now.pid)] != nil {
            taskConversions[now.pid, default: []].append(range)
        }
        guard let io = ioEndAwaitingConversion(inode, range) else {
            // No io_end of the model covers it: a DIO or fallocate conversion
            // (not modelled) or one the model already made. The trace is
            // what happened: the blocks are written now.
            learn(.convertedOutsideIoEnds(inode, range))
            return
        }
        if !inRun {
            let pid = Int(now.pid)
            // ≤3.7: fsync, truncate and punch hole convert the io_ends on
            // the inode's list in the caller (`ext4_flush_completed_IO`);
            // the model makes that step at the operation's flush, which
            // finds this CONVERT among the caller's own.
            if flushConverts(io, by: pid) { return }
            // Inline (C′): the submitter's put was the last reference.
            if state.tasks[pid]?.writeback?.ownerReference == io,
               !failedConversionDisagrees(io, traceConverts: true, inlineBy: pid) {
                putOwnerReference(pid)
            }
            if state.ioEnd(io).map({ $0.phase < .converted }) ?? false {
                diverge(.ext4PutIoEnd(task: Int(now.pid), io), object: "\(io)", reason: "the trace converts inline but the model holds other references")
                // One CONVERT covers the whole mapped range: so every io_end
                // the model split that writeback pass into.
                for each in ioEndsAwaitingConversion(inode, range) { forceConversion(each) }
            }
            return
        }
        unconfirmedAddTaken(io)
        adoptAddedBeforeTake(io)
        runs[now.pid]?.converted.append(io)
        convertInRun(io)
        // One CONVERT covers an io_end's whole mapped range; where the model
        // split the writeback pass into several io_ends (6.x submits a bio
        // when it is full and keeps building the same io_end), every one of
        // them under this range is converted by this run.
        var converted: Set<IoEndRef> = [io]
        while let next = ioEndAwaitingConversion(inode, range), !converted.contains(next),
              state.superblocks[inode.dev]?.worker?.local.first == next {
            converted.insert(next)
            runs[now.pid]?.converted.append(next)
            convertInRun(next)
        }
    }

    /// The running work converts `io`, which a completion added to the
    /// inode's list after the run's `workqueue_execute_start` with no
    /// `workqueue_queue_work` of this work since the run started: the add
    /// found the list not yet taken, so it came before the run's
    /// `list_replace_init` — and so did every add before it. The run took
    /// them, in the order of their adds.
    mutating func adoptAddedBeforeTake(_ io: IoEndRef) {
        guard traits.workPerInode, let run = runs[now.pid], run.inode == io.inode,
              state.ioEnd(io)?.phase == .queued,
              let k = run.adds.lastIndex(where: { $0.io == io && $0.index < (run.requeuedFrom ?? Int.max) }) else { return }
        let taken = run.adds[...k].map(\.io).filter { $0.inode == io.inode && state.ioEnd($0)?.phase == .queued }
        var seen: Set<IoEndRef> = []
        let ordered = taken.filter { seen.insert($0).inserted }
        learn(.addedBeforeTake(ordered))
        for each in ordered { note(each, "added to the list before the running work took it (no workqueue_queue_work): converted by this run") }
    }

    /// Whether `pid`'s CONVERT of `io` is the `ext4_flush_completed_IO` of
    /// its fsync, truncate or punch hole (≤3.7): the profile flushes in the
    /// caller, the task is inside such an operation, and `io` is listed.
    func flushConverts(_ io: IoEndRef, by pid: Int) -> Bool {
        guard traits.flushesCompletedIO, state.inodes[io.inode]?.conversionList.contains(io.serial) == true else { return false }
        switch state.tasks[pid]?.operation {
        case .syncFile?, .removeBlocks?: return true
        default: return false
        }
    }

    /// The worker converts `io`: release what it converted before, take
    /// the work if needed (≤3.7 per io_end), convert.
    mutating func convertInRun(_ io: IoEndRef) {
        let dev = io.inode.dev
        if traits.workPerInode {
            if let done = state.superblocks[dev]?.worker?.converted.first, done != io {
                drive(.ext4ReleaseIoEnd(done))
                note(done, "ext4_release_io_end: folio_end_writeback")
            }
            if state.superblocks[dev]?.worker?.local.first != io {
                takeHiddenSteps(enabling: .ext4ConvertUnwrittenIoEndVec(io))
            }
            if state.superblocks[dev]?.worker?.local.contains(io) != true {
                diverge(.ext4ConvertUnwrittenIoEndVec(io), object: "\(io)", reason: "the worker did not take this io_end from the list")
                forceConversion(io)
                return
            }
            if state.superblocks[dev]?.worker?.local.first != io {
                diverge(.ext4ConvertUnwrittenIoEndVec(io), object: "\(io)", reason: "converted out of list order")
                learn(.workerTakesFirst(io))
            }
        } else if state.superblocks[dev]?.worker?.local.contains(io) != true {
            if state.superblocks[dev]?.worker != nil, state.superblocks[dev]!.worker!.local.isEmpty {
                drive(.ext4FreeIoEnds(state.superblocks[dev]!.worker!.inode))
            }
            drive(.ext4EndIoWork(io), past: [.workNotQueued, .workerBusy, .mutexHeld])
            note(io, "ext4_end_io_work: the io_end's work runs")
            if state.superblocks[dev]?.worker == nil { return }  // 3.6 converted and freed it
        }
        if state.superblocks[dev]?.worker?.local.first == io {
            if failedConversionDisagrees(io, traceConverts: true) { return }
            drive(.ext4ConvertUnwrittenIoEndVec(io))
            note(io, "ext4_convert_unwritten_io_end_vec: unwritten → written")
        }
    }

    /// Whether the trace and the profile disagree about converting a FAILED
    /// io_end (e856f93e0fb2: 6.15+ leave its blocks unwritten; 6.12.117 only
    /// in the worker). If they do, records the divergence and takes the
    /// conversion step the trace shows — with (CONVERT seen) or without (no
    /// CONVERT) the conversion — under a model of the other behaviour, so the
    /// rules judge what happened. `inlineBy`: the task whose `ext4_put_io_end`
    /// drops the last reference and converts inline (only a CONVERT shows it).
    mutating func failedConversionDisagrees(_ io: IoEndRef, traceConverts: Bool, inlineBy task: Int? = nil) -> Bool {
        guard let ioState = state.ioEnd(io), ioState.flags.contains(.failed), !ioState.unwrittenRanges.isEmpty else { return false }
        if task != nil, ioState.refcount != 1 { return false }
        let skips = task == nil ? traits.skipsConversionOfFailedIO : traits.inlinePutSkipsConversionOfFailedIO
        guard skips == traceConverts else { return false }
        let t = task.map { Transition.ext4PutIoEnd(task: $0, io) } ?? .ext4ConvertUnwrittenIoEndVec(io)
        diverge(t, object: "\(io)", reason: traceConverts
                ? "the trace converts an io_end whose write failed; this profile leaves it unwritten (e856f93e0fb2)"
                : "the trace shows no conversion of an io_end whose write failed; this profile converts it")
        let other = WritebackModel(profile: traceConverts ? .ext4_5_10 : .ext4_6_x)
        do {
            applied(t, try other.apply(t, in: &state))
            note(io, !traceConverts ? "ext4_end_io_end: FAILED, not converted"
                 : task == nil ? "ext4_convert_unwritten_io_end_vec: a FAILED io_end converted"
                 : "ext4_put_io_end: a FAILED io_end converted inline")
        } catch {
            return false
        }
        return true
    }

    /// The trace converted blocks the model had no way to convert here:
    /// convert them directly so later rules see the trace's state.
    mutating func forceConversion(_ io: IoEndRef) {
        guard state.ioEnd(io) != nil else { return }
        learn(.ioEndConverted(io))
        if conversionSeenOutOfOrder.count > 4096 { conversionSeenOutOfOrder.removeAll() }
        conversionSeenOutOfOrder[io] = true
        keyed(io)
        note(io, "conversion seen in the trace (outside the model's order)")
    }

    /// `workqueue_execute_end`: whatever the run still holds is converted
    /// and released (a conversion whose extents the es-tree already calls
    /// written shows no CONVERT event; a FAILED io_end none at all). A run
    /// the graph could not tie to a traced inode did nothing the model knows.
    mutating func conversionWorkEnded(_ work: WorkID, _ owner: ModelInode?) {
        guard let run = runs[now.pid] else { return }
        guard run.work == work, let inode = run.inode ?? owner else {
            runs[now.pid] = nil
            return
        }
        startRun(inode)
        takeList(now.pid)
        runs[now.pid] = nil
        finishRun(inode)
    }

    mutating func finishRun(_ inode: ModelInode) {
        let dev = inode.dev
        var guardCount = 0
        // The io_ends the run held: those it may free.
        var held: [IoEndRef] = []
        while let worker = state.superblocks[dev]?.worker, worker.inode == inode, guardCount < 10_000 {
            guardCount += 1
            if traits.workPerInode {
                if let done = worker.converted.first {
                    held.append(done)
                    drive(.ext4ReleaseIoEnd(done))
                    note(done, "ext4_release_io_end: folio_end_writeback")
                } else if let next = worker.local.first {
                    held.append(next)
                    endedWithoutConvert(next)
                } else {
                    learn(.workerRunEnded(dev))
                }
            } else if let next = worker.local.first {
                drive(.ext4ConvertUnwrittenIoEndVec(next))
            } else {
                held += worker.converted + (worker.workIoEnd.map { [$0] } ?? [])
                drive(.ext4FreeIoEnds(inode))
                if state.superblocks[dev]?.worker != nil { learn(.workerRunEnded(dev)) }
            }
        }
        pruneTrails(of: inode, freeing: held)
    }

    /// The run ends the io_end it took (`ext4_end_io_end`) with no CONVERT
    /// shown: right where the io_end failed and this kernel leaves it
    /// unwritten, or where nothing of it is unwritten any more (the
    /// es-tree answers `ext4_map_blocks`, no `ext4_ext_map_blocks_enter`).
    /// An io_end with blocks still unwritten would have shown its CONVERT:
    /// the run did not hold it as the model has it (an add after the
    /// take, reordered), which is a divergence — unless events were lost
    /// before, where its CONVERT or what put it on the list may be; the model then
    /// converts it, as the run's end says the kernel did.
    mutating func endedWithoutConvert(_ io: IoEndRef) {
        if failedConversionDisagrees(io, traceConverts: false) { return }
        if let ioState = state.ioEnd(io), !ioState.unwrittenRanges.isEmpty,
           !(ioState.flags.contains(.failed) && traits.skipsConversionOfFailedIO),
           // After lost events the model's list may hold what the kernel's
           // did not (a lost completion, queueing or CONVERT before this run).
           !losses.lossAffecting(from: 0, to: now.timestamp),
           ioState.unwrittenRanges.contains(where: { state.inodes[io.inode]?.extents.ranges(in: $0, state: .unwritten).isEmpty == false }) {
            diverge(.ext4ConvertUnwrittenIoEndVec(io), object: "\(io)",
                    reason: "the conversion work ended an io_end it took without a CONVERT of its unwritten blocks")
        }
        drive(.ext4ConvertUnwrittenIoEndVec(io))
        note(io, "ext4_end_io_end (no CONVERT event: nothing left to convert or FAILED)")
    }
}
