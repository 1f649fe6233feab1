import EventGraph
import KernelEvents
import TraceIO
import WritebackModel

// Block completion (irq) and the end of an inode's writeback; the conversion
// work is in ReplayConversionRun.swift.

extension ProfileReplay {
    /// `block_rq_issue` → `blk_mq_start_request` for the model's bios the
    /// request carries (as the event graph bound them).
    mutating func requestIssued(_ bound: [BoundBio]) {
        for b in bound {
            guard let bio = liveBios[b.id], state.bio(bio)?.status == .queued else { continue }
            drive(.blkMqStartRequest(bio))
            note(bio.ioEnd, "block_rq_issue: bio issued")
        }
    }

    /// `block_rq_complete` / `block_bio_complete` → `ext4_end_bio` for each of
    /// the model's bios the completion finished. ≤3.10 the handler goes on
    /// with `end_page_writeback` (`sb_clear_inode_writeback`) and only then
    /// `ext4_add_complete_io` (`workqueue_queue_work ext4_end_io_work`):
    /// another CPU can run in between, so the queueing is applied at this
    /// CPU's next event that is not part of ending writeback.
    mutating func biosCompleted(_ done: [CompletedBio]) {
        // The adds a list take may have to undo: ≥3.11 only (`takeList`).
        let tracksAdds = traits.workPerInode
        if tracksAdds {
            recentAdds[now.cpu] = (now.index, [])
            recentCompletions[now.cpu] = []
        }
        for d in done {
            guard let bio = liveBios.removeValue(forKey: d.bio.id) else { continue }
            let error = d.error
            if state.bio(bio)?.status == .queued { drive(.blkMqStartRequest(bio)) }
            let inode = bio.ioEnd.inode
            note(bio.ioEnd, error == 0 ? "\(names[now.name]): data on disk (ext4_end_bio)" : "\(names[now.name]): write failed (error \(error))")
            failedBy = d.failedBy.map { Stamp(index: $0.index, timestamp: $0.timestamp, cpu: $0.cpu, pid: $0.pid, name: .none) }
            failedError = error
            drive(.ext4EndBio(bio, error: error != 0))
            failedBy = nil
            if tracksAdds, state.ioEnd(bio.ioEnd)?.allBiosComplete == true { recentCompletions[now.cpu]!.append(bio.ioEnd) }
            if traits.endsWritebackBeforeConversion, state.ioEnd(bio.ioEnd)?.phase == .bioDone,
               state.ioEnd(bio.ioEnd)?.flags.contains(.unwritten) == true {
                pendingAddComplete[now.cpu, default: []].append(bio.ioEnd)
            }
            if let phase = state.ioEnd(bio.ioEnd)?.phase, phase == .queued {
                note(bio.ioEnd, "ext4_add_complete_io: queued for conversion")
                if tracksAdds {
                    recentAdds[now.cpu]!.ios.append(bio.ioEnd)
                    unconfirmedAdds[now.cpu, default: []].append(bio.ioEnd)
                    for (pid, run) in runs where run.inode == nil || run.inode == inode {
                        runs[pid]!.adds.append((now.index, bio.ioEnd))
                    }
                }
            }
            if state.ioEnd(bio.ioEnd) == nil { pruneTrails(of: inode, freeing: [bio.ioEnd]) }
        }
    }

    /// ≤3.10: the `ext4_add_complete_io` calls a completion on `cpu` left
    /// for after its `end_page_writeback`.
    mutating func flushAddComplete(cpu: Int) {
        guard let ios = pendingAddComplete.removeValue(forKey: cpu) else { return }
        for io in ios where state.ioEnd(io)?.phase == .bioDone {
            drive(.ext4AddCompleteIo(io))
            if state.ioEnd(io)?.phase == .queued { note(io, "ext4_add_complete_io: queued for conversion") }
        }
    }

    /// `sb_clear_inode_writeback`: the inode's last writeback folio ended
    /// (bound 3). On a worker this follows the release of the io_end it
    /// just converted.
    mutating func inodeWritebackCleared(_ inode: ModelInode) {
        ensure(inode)
        if nothingSubmitted(inode) { return }
        if runs[now.pid]?.inode == inode { takeList(now.pid) }
        if let run = runs[now.pid], run.inode == inode, traits.workPerInode,
           state.superblocks[inode.dev]?.worker?.converted.isEmpty == true,
           let next = state.superblocks[inode.dev]?.worker?.local.first {
            // Writeback ended without a CONVERT: the worker ended the io_end
            // without converting (FAILED, or nothing left unwritten).
            endedWithoutConvert(next)
        }
        // The inode's last writeback folio ended: every io_end the run has
        // converted so far was released (ext4_release_io_end → folio_end_writeback).
        var released = 0
        while let run = runs[now.pid], run.inode == inode, traits.workPerInode, released < 4096,
              let done = state.superblocks[inode.dev]?.worker?.converted.first {
            released += 1
            guard drive(.ext4ReleaseIoEnd(done)) else { break }
            note(done, "ext4_release_io_end: folio_end_writeback")
            pruneTrails(of: inode, freeing: [done])
        }
        if traits.endsWritebackBeforeConversion, let run = runs[now.pid], run.inode == inode {
            // ≤3.10 ext4_end_bio ends page writeback at bio completion,
            // before the io_end is even queued: a worker that ends it after
            // converting is the deferred end of writeback of 3.11+.
            let object = run.converted.last.map { ReplayObject.ioEnd($0) }
                ?? ReplayObject(kind: .inode, key: "\(inode)", inode: inode, historyLabel: "inode")
            record(Divergence(eventIndex: now.index, timestamp: now.timestamp, kernelFunction: "sb_clear_inode_writeback",
                              kind: object.kind, object: object.key,
                              reason: "writeback of an unwritten range ended after its conversion, in the conversion worker",
                              expected: ["folio_end_writeback in ext4_end_bio (bio completion), before ext4_add_complete_io"],
                              observed: "sb_clear_inode_writeback on the conversion worker after ext4_convert_unwritten_io_end_vec"),
                   object: object)
        }
        // Writeback of the inode ends in the context of a task that still
        // holds its reference on a completed io_end of it: the kernel's put,
        // right after `ext4_io_submit` [6.18 inode.c ext4_do_writepages], was
        // the last reference and released it (the model puts at
        // `ext4_writepages_result`). No CONVERT came before: none was made.
        let pid = Int(now.pid)
        if let io = state.tasks[pid]?.writeback?.ownerReference, io.inode == inode,
           let ioState = state.ioEnd(io), ioState.refcount == 1, ioState.allBiosComplete,
           !failedConversionDisagrees(io, traceConverts: false, inlineBy: pid) {
            putOwnerReference(pid)
        }
        let still = writebackFolios(inode)
        guard !still.isEmpty else { return }
        let holder = state.inodes[inode]?.ioEnds.sorted { $0.key < $1.key }
            .first { $0.value.folios.contains(where: still.contains) }.map { IoEndRef(inode: inode, serial: $0.key) }
        let object = holder.map { ReplayObject.ioEnd($0) } ?? ReplayObject(kind: .inode, key: "\(inode)", inode: inode, historyLabel: "inode")
        record(Divergence(eventIndex: now.index, timestamp: now.timestamp, kernelFunction: "sb_clear_inode_writeback",
                          kind: object.kind, object: object.key,
                          reason: "\(still.count) folio(s) still under writeback in the model",
                          expected: [traits.endsWritebackBeforeConversion
                                     ? "folio_end_writeback in ext4_end_bio once every bio of the io_end completed"
                                     : "ext4_release_io_end after ext4_convert_unwritten_io_end_vec (the conversion worker ends writeback)"],
                          observed: "sb_clear_inode_writeback with \(still.count) folio(s) still under writeback"),
               object: object)
        endWritebackSeen(inode)
    }

    /// `sb_clear_inode_writeback` from the task whose pass marked the
    /// inode's writeback, before any bio of the pass since the mark: the
    /// folio it started was not written (`ext4_bio_write_folio` with nothing
    /// to submit; see `TraceFact.nothingSubmitted`). Only the marking task
    /// can tell: a completion or a worker clears after a bio.
    mutating func nothingSubmitted(_ inode: ModelInode) -> Bool {
        let pid = Int(now.pid)
        guard var span = spans[now.pid], span.inode == inode, !span.started.isEmpty,
              let io = state.tasks[pid]?.writeback?.ioEnd, state.ioEnd(io)?.bios.isEmpty == true else { return false }
        for index in span.started { learn(.nothingSubmitted(task: pid, FolioRef(inode: inode, index: index))) }
        note(io, "ext4_bio_write_folio: nothing to submit, folio(s) \(span.started.map(String.init).joined(separator: ",")) redirtied, writeback ended (sb_clear_inode_writeback)")
        span.started = []
        spans[now.pid] = span
        return true
    }
}
