import TraceIO

/// A step of the kernel that no event shows and that nothing in a trace
/// orders against the steps around it: the kernel may take it anywhere in
/// a window, so a replay places it where an observed step needs it
/// (`WritebackModel.takeHiddenSteps(enabling:in:)`). Placing it there is
/// no divergence: the kernel may have done just that.
public enum HiddenStep: Hashable, Sendable {
    /// The submitter dropped its io_end reference right after
    /// `ext4_io_submit` (`ext4_put_io_end_defer` / `ext4_put_io_end` in
    /// `ext4_do_writepages`, 6.18 inode.c:2951-2963), before the io_end's
    /// bios completed. The completion's `ext4_put_io_end_defer` in
    /// `ext4_end_bio` then dropped the last reference and
    /// `ext4_add_complete_io` added the io_end to `i_rsv_conversion_list`,
    /// queueing `i_rsv_conversion_work` if the list was empty (6.18
    /// page-io.c:250-269, 321-329). `takenByRun`: that add came before the
    /// running work's `list_replace_init` (`ext4_do_flush_completed_IO`,
    /// page-io.c:271-296): the run took the io_end with its list, in the
    /// order of the adds — ahead of the io_ends the model had added later.
    case submitterPutBeforeCompletion(task: Int, IoEndRef, takenByRun: Bool)
}

extension WritebackModel {
    /// Takes, in `s`, the hidden steps after which `t` is enabled, and
    /// returns them. Empty — and `s` unchanged — where `t` is enabled
    /// already, or no hidden step of this profile's kernel enables it.
    public func takeHiddenSteps(enabling t: Transition, in s: inout ModelState) -> [HiddenStep] {
        // Only these steps have hidden steps before them (`hiddenStep`).
        guard traits.refcountedIoEnd, traits.workPerInode else { return [] }
        switch t {
        case .ext4EndIoRsvWork, .ext4ConvertUnwrittenIoEndVec: break
        default: return []
        }
        let original = s
        var taken: [HiddenStep] = []
        while taken.count < 64 {
            var probe = s
            let blocker: Blocker
            do {
                _ = try apply(t, in: &probe)
                return taken
            } catch {
                blocker = error.blocker
            }
            guard let step = hiddenStep(unblocking: blocker, of: t, in: s) else { break }
            take(step, in: &s)
            taken.append(step)
        }
        s = original
        return []
    }

    /// The trace shows a completion queue `inode`'s conversion work
    /// (`workqueue_queue_work` of `i_rsv_conversion_work` in the irq that
    /// finished the bios of `completed`: `ext4_add_complete_io` found the
    /// list empty), where the model's `ext4_end_bio` queued nothing because
    /// a submitter still held its reference. That submitter's put came
    /// first: takes it and returns it (none where the work is queued in the
    /// model already, or no io_end of `completed` is held so).
    public func takeHiddenSteps(queueingWorkOf inode: InodeRef, completing completed: [IoEndRef],
                                in s: inout ModelState) -> [HiddenStep] {
        guard traits.refcountedIoEnd, traits.workPerInode, s.inodes[inode]?.rsvWorkQueued == false,
              let held = heldBySubmitters(inode, s).first(where: { completed.contains($0.io) }) else { return [] }
        let step = HiddenStep.submitterPutBeforeCompletion(task: held.task, held.io, takenByRun: false)
        take(step, in: &s)
        return [step]
    }

    /// The hidden step that would clear `blocker` of `t`, if one would.
    private func hiddenStep(unblocking blocker: Blocker, of t: Transition, in s: ModelState) -> HiddenStep? {
        guard traits.refcountedIoEnd, traits.workPerInode else { return nil }
        switch (blocker, t) {
        case (.workNotQueued(.inode(let inode)), .ext4EndIoRsvWork):
            // The work runs: some completion queued it. The oldest io_end
            // a submitter still holds, complete, is the one whose
            // completion found the list empty.
            guard let (task, io) = heldBySubmitters(inode, s).first else { return nil }
            return .submitterPutBeforeCompletion(task: task, io, takenByRun: false)
        case (.notNextForWorker(let io), .ext4ConvertUnwrittenIoEndVec):
            // The run converts an io_end it did not take: it was on the
            // list when the run took it. (A run whose list the model
            // had exhausted is gone from the model: it is this one.)
            let run = s.superblocks[io.inode.dev]?.worker
            guard run.map({ $0.inode == io.inode && !$0.local.contains(io) }) ?? true,
                  let held = heldBySubmitters(io.inode, s).first(where: { $0.io == io }) else { return nil }
            return .submitterPutBeforeCompletion(task: held.task, io, takenByRun: true)
        default:
            return nil
        }
    }

    /// The io_ends of `inode` whose bios all completed while a submitter
    /// still held its reference, and whose last put queues them for
    /// conversion: oldest first.
    private func heldBySubmitters(_ inode: InodeRef, _ s: ModelState) -> [(task: Int, io: IoEndRef)] {
        s.tasks.compactMap { entry -> (task: Int, io: IoEndRef)? in
            guard let io = entry.value.writeback?.ownerReference, io.inode == inode,
                  let ioState = s.ioEnd(io), ioState.refcount == 1, ioState.allBiosComplete,
                  ioState.phase == .bioDone, deferCompletion(io, s) else { return nil }
            return (entry.key, io)
        }.sorted { $0.io.serial < $1.io.serial }
    }

    private func take(_ step: HiddenStep, in s: inout ModelState) {
        switch step {
        case .submitterPutBeforeCompletion(let task, let io, let takenByRun):
            s.tasks[task]!.writeback!.ownerReference = nil
            s.updateIoEnd(io) { $0.refcount = 0 }
            if takenByRun {
                s.updateIoEnd(io) { $0.phase = .converting }
                if s.superblocks[io.inode.dev]!.worker == nil {
                    s.superblocks[io.inode.dev]!.worker = WorkerRun(inode: io.inode, workIoEnd: nil, local: [], converted: [])
                }
                s.superblocks[io.inode.dev]!.worker!.local.insert(io, at: 0)
            } else {
                addCompleteIo(io, &s)
            }
        }
    }
}
