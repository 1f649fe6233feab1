import KernelEvents
import TraceIO

/// The ≤3.10 order of an unwritten io_end, applied to a 6.x recording.
///
/// Since b0857d309fae (3.11) the writeback of an unwritten io_end ends only
/// after its conversion: `ext4_end_bio` chains the bio and
/// `ext4_release_io_end` ends the folios' writeback from the conversion
/// worker, so a 6.x trace shows `sb_clear_inode_writeback` inside the
/// `ext4_end_io_rsv_work` run and every `folio_wait_writeback` on those
/// folios ending after it. Up to 3.10, `ext4_end_bio` (fs/ext4/page-io.c,
/// 3.6: `put_io_page` → `end_page_writeback`; 3.10: `end_page_writeback`
/// once no buffer is under io) ended the pages' writeback at bio completion
/// and only then queued the io_end on `i_completed_io_list` for the worker.
extension Scenario {
    /// Ends the site's writeback where ≤3.10 did: `sb_clear_inode_writeback`
    /// moves from the worker's run into the irq that completed the last
    /// bio, right after `block_rq_complete`; a `folio_wait_writeback` on
    /// the site's folios after that completion found no writeback and goes.
    ///
    /// Not where the last bio completed in the submitter's own context
    /// while the submitter still held the io_end (a device that completes
    /// inside `submit_bio`, null_blk): 3.6 ended writeback and queued the
    /// io_end there, from `ext4_end_bio`; the recorded kernel, whose release
    /// a trace.dat keeps, reads writeback ending in the context of a task
    /// that holds the io_end as that task's `ext4_put_io_end` being the last
    /// reference — the inline conversion — and the recording shows instead
    /// the submitter's put queueing the work (`workqueue_queue_work` from its
    /// own context after the completion). No edit of the site can show the
    /// old order there: another site is tried.
    mutating func endWritebackAtCompletion(_ site: ConversionSite, until movedEnd: UInt64) throws {
        let c = index.events[site.lastCompletion]
        if site.completedWhileSubmitterHeld(index) {
            throw Unhostable("the last bio completed in the submitter's context while it held the io_end (its own put queued the conversion)")
        }
        // Waits that 6.x ended with the worker's release, wherever it now runs.
        let end = max(movedEnd, index.timestamp(site.executeEnd))
        if let clear = site.clearWriteback {
            schedule.vacated.insert(clear)
            trace.update(clear, after: site.lastCompletion) { e in
                e.timestamp = c.timestamp
                e.pid = c.pid
                e.comm = c.comm
                e.cpu = c.cpu
            }
        }
        for p in waits(on: site, after: c.timestamp, until: end) { remove(p) }
    }

    /// `folio_wait_writeback` events on the site's folios in (after, until].
    func waits(on site: ConversionSite, after: UInt64, until: UInt64) -> [Int] {
        let from = index.firstIndex(atOrAfter: after + 1)
        var out: [Int] = []
        var i = from
        while i < index.count, index.events[i].timestamp <= until {
            if case .writeback(.waitOnWriteback(_, let ino, let page)) = index.typed[i],
               ino == site.inode.ino, site.pages.contains(page) {
                out.append(i)
            }
            i += 1
        }
        return out
    }

    /// Moves `events` (one task's, in order) so that `pivot` happens at `t`
    /// (or up to `slack` later, where the CPU is free) on `cpu`, the others
    /// around it at their recorded gaps (at most `cap`), pushed apart where
    /// other tasks run on that CPU (the task was preempted); gives the
    /// journal handles among them the transaction running then. Throws when
    /// no such placement exists.
    @discardableResult
    mutating func moveTaskEvents(_ events: [Int], pivot: Int, to t: UInt64, cpu: Int, as owner: Actor? = nil,
                                 cap: UInt64 = 2000, slack: UInt64 = 20_000) throws -> (start: UInt64, end: UInt64) {
        guard let k = events.firstIndex(of: pivot) else { return (t, t) }
        let pid = owner?.pid ?? index.events[pivot].pid
        for p in events { schedule.vacated.insert(p) }
        func free(_ time: UInt64) -> Bool {
            schedule.isQuiet(cpu: cpu, from: time - min(time, step - 1), to: time + step - 1, for: pid)
                && schedule.isFree(task: pid, from: time, to: time)
        }
        func gap(_ j: Int) -> UInt64 {  // recorded gap before events[j], capped
            aligned(min(index.timestamp(events[j]) - index.timestamp(events[j - 1]), cap))
        }
        var reasons = ""
        var pivotTime = aligned(t)
        while pivotTime <= t + slack {
            defer { pivotTime += step }
            guard free(pivotTime) else { continue }
            var times = Array(repeating: UInt64(0), count: events.count)
            times[k] = pivotTime
            var ok = true
            var j = k - 1
            while ok, j >= 0 {
                var time = times[j + 1] - max(gap(j + 1), step)
                while !free(time) {
                    guard time > step, times[k] - time < 300_000 else { ok = false; break }
                    time -= step
                }
                times[j] = time
                j -= 1
            }
            j = k + 1
            while ok, j < events.count {
                var time = times[j - 1] + max(gap(j), step)
                while !free(time) {
                    time += step
                    guard time - times[k] < 300_000 else { ok = false; break }
                }
                times[j] = time
                j += 1
            }
            guard ok else { reasons = "CPU \(cpu) stays busy around \(pivotTime) ns"; continue }
            for (p, time) in zip(events, times) {
                var tid: UInt64?
                if case .jbd2(.handleStart(let dev, let old, _)) = index.typed[p] {
                    tid = runningTransaction(at: time, dev: dev, index: index, fallback: old)
                }
                trace.update(p, after: anchor(before: time + 1)) { e in
                    e.timestamp = time
                    e.cpu = cpu
                    if let owner { e.pid = owner.pid; e.comm = owner.comm }
                    if let tid { EventFactory.apply([.uint("tid", tid)], to: &e) }
                }
            }
            // jbd2_handle_stats reports the handle's transaction too.
            var handleTid: UInt64?
            for p in events {
                if case .jbd2(.handleStart) = index.typed[p] { handleTid = trace.event(p).fields.uint("tid") }
                if index.events[p].name == "jbd2_handle_stats", let tid = handleTid {
                    trace.update(p) { EventFactory.apply([.uint("tid", tid)], to: &$0) }
                }
            }
            schedule.reserve(cpu: cpu, from: times.first!, to: times.last!, pid: pid)
            return (times.first!, times.last!)
        }
        throw Unhostable(reasons.isEmpty
            ? "\(owner?.comm ?? index.comms[pid] ?? "?")-\(pid) or CPU \(cpu) is busy from \(t) ns on, where its moved events would go"
            : reasons)
    }

    /// In the 6.x order a task waiting on the io_end's folios resumes only
    /// after the worker released them: none may go on before `releasedAt`.
    func waiterResumesEarly(_ site: ConversionSite, releasedAt: UInt64) -> String? {
        let from = index.timestamp(site.bioQueues[0])
        for w in waits(on: site, after: from, until: index.timestamp(site.executeEnd)) {
            let pid = index.events[w].pid
            if let next = index.byPid[pid]?.first(where: { $0 > w && !schedule.vacated.contains($0) }),
               index.timestamp(next) < releasedAt {
                return "\(index.comms[pid] ?? "?")-\(pid), waiting on the io_end's folios (event \(w)), goes on at event \(next) before the release"
            }
        }
        return nil
    }

    /// What in (from, to] the site's conversion cannot be postponed past:
    /// another run of the inode's conversion work (the workqueue does not run
    /// a work item twice at once), a `sync_fs` (ext4_sync_fs flushes the
    /// conversion workqueue), an fsync of the inode returning, blocks of the
    /// inode removed, the inode evicted, or its folios read back.
    func stallConflict(_ site: ConversionSite, from: UInt64, to: UInt64) -> String? {
        var i = index.firstIndex(atOrAfter: from + 1)
        let runSet = Set(site.run)
        while i < index.count, index.events[i].timestamp <= to {
            defer { i += 1 }
            if runSet.contains(i) || schedule.vacated.contains(i) { continue }
            let e = index.events[i]
            switch index.typed[i] {
            case .workqueue(.executeStart(let key)) where key.work == site.work:
                return "the inode's conversion work runs again at event \(i) (\(e.timestamp) ns)"
            case .ext4(.syncFileExit(let ref, _)) where ref == site.inode:
                return "an fsync of the inode returns at event \(i) (\(e.timestamp) ns)"
            case .ext4(.removeSpace(let ref, _, _)) where ref == site.inode,
                 .ext4(.punchHole(let ref, _, _)) where ref == site.inode,
                 .ext4(.evictInode(let ref, _)) where ref == site.inode,
                 .ext4(.freeInode(let ref)) where ref == site.inode:
                return "\(e.name) of the inode at event \(i)"
            case .filemap(.addToPageCache(let ref, let page, _)) where ref == site.inode && site.pages.contains(page):
                return "the inode's folio \(page) is read back at event \(i)"
            default:
                // ext4_sync_fs flushes the conversion workqueue: its task may
                // go on only after the postponed run.
                if e.name == "ext4_sync_fs",
                   let next = index.byPid[e.pid]?.first(where: { $0 > i && !schedule.vacated.contains($0) }),
                   index.timestamp(next) <= to {
                    return "\(e.comm)-\(e.pid)'s sync_fs (which flushes the conversion workqueue, event \(i)) returns before the postponed conversion"
                }
            }
        }
        return nil
    }
}
