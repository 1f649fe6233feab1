import KernelEvents
import TraceIO

/// fsync-before-conversion (seed 002).
///
/// Mirrors 3.6's `ext4_sync_file` (fs/ext4/fsync.c): `filemap_write_and_wait_range`
/// waits for page writeback, which `ext4_end_bio` ended at bio completion,
/// then `ext4_flush_completed_IO` drains `i_completed_io_list` — but
/// `ext4_end_bio` adds the io_end to that list (and queues the worker) only
/// after `end_page_writeback`, so an fdatasync woken by the completion finds
/// the list empty and returns while the extent is still unwritten (the
/// window Kara pointed at in seed 002; 3.7's V4 cleanup had the same race
/// with the worker's `list_replace_init`).
///
/// The injected fdatasync belongs to a new `xfs_io` process on the CPU the
/// completion did not run on. It enters while the site's io_end is under
/// way (`ext4_writepages` finds nothing left to write, `folio_wait_writeback`
/// waits for the io_end's first folio), is woken by the completion, and
/// returns (`ext4_sync_file_exit` ret 0) through one of the two races
/// (`Race`): inside the irq's end_bio window, or after the worker took the
/// list. The conversion follows:
/// - (a) by the worker, 1.2 ms after the return;
/// - (b) by the worker, 20 µs after it on the other CPU: nothing orders the two;
/// - (c) by the same task: 20 µs after its return it calls fdatasync again
///   on the other CPU, and this one's `ext4_flush_completed_IO` finds the
///   io_end on the list and converts it in the task's context (the worker
///   then runs with nothing to do). Program order joins the two.
/// The fdatasync needs no journal commit (unwritten allocation does not
/// touch `i_datasync_tid`) and issues no cache flush.
///
/// Twin: the same fdatasync, returning after the worker's conversion and the
/// end of writeback (the 6.x order the recording shows).
enum FsyncBeforeConversion {
    static let comm = "xfs_io"

    static func make(_ id: CaseID, site: ConversionSite, index: TraceIndex, factory: EventFactory) throws -> MutationCase {
        let completion = index.events[site.lastCompletion]
        let tc = completion.timestamp
        guard let x = index.otherCPU(than: completion.cpu) else { throw Unhostable("the trace shows one CPU only") }
        guard site.queuedByLastCompletion else {
            throw Unhostable("the io_end joined a list whose work an earlier completion had queued")
        }
        let others = index.writebackInFlight(site.inode, at: tc).filter { !site.bioQueues.contains($0.queue) }
        guard others.isEmpty else {
            throw Unhostable("other writeback of the inode is in flight at the io_end's completion (an fdatasync would wait for it too)")
        }
        var bug = Scenario(index, factory: factory, device: site.inode.dev)
        var twin = Scenario(index, factory: factory, device: site.inode.dev)
        let f = bug.newTask(comm, cpu: x)
        _ = twin.newTask(comm, cpu: x)
        let step = bug.step

        // The fdatasync enters while the io_end is under way.
        let mapped = index.timestamp(site.mapping)
        guard tc > mapped + 6 * step,
              let t1 = bug.schedule.quietStart(cpu: x, before: bug.aligned(tc - 5 * step), span: 4 * step, for: f.pid,
                                               step: step, within: tc - 6 * step - mapped) else {
            throw Unhostable("no quiet moment on CPU \(x) between the io_end's mapping and its completion for the fdatasync to enter")
        }
        let page = index.folioIndex(site.inode, page: site.pages.lowerBound, before: tc)
        let enter = try [
            bug.make("sys_enter_fdatasync", at: t1, by: f, [.int("fd", 3)]),
            bug.make("ext4_sync_file_enter", at: t1 + step, by: f, [.uint("ino", site.inode.ino), .int("datasync", 1)]),
            bug.make("ext4_writepages", at: t1 + 2 * step, by: f, [.uint("ino", site.inode.ino), .int("sync_mode", 1)]),
            bug.make("ext4_writepages_result", at: t1 + 3 * step, by: f,
                     [.uint("ino", site.inode.ino), .int("ret", 0), .int("pages_written", 0), .int("sync_mode", 1)]),
            bug.make("folio_wait_writeback", at: t1 + 4 * step, by: f, [.uint("ino", site.inode.ino), .uint("index", page)]),
        ]
        bug.place(enter)
        twin.place(enter)

        // ≤3.10: the completion ends the folios' writeback and wakes the task;
        // it returns as soon as its CPU and the worker's are free.
        let xs = index.timestamp(site.executeStart)
        var story = ""
        // The replay also needs the completion before the return: the 3.6
        // end_bio window is a few µs on another CPU, and no event shows the
        // wake-up, so only a clock that compares CPUs orders the two there.
        // Under a per-CPU clock the return must come `anyClockGap` after the
        // completion: the 3.7 race (the worker took the list, then was preempted).
        let globalClock = CaseAssembly.verdict(.unordered, id.clock, recordedClock: index.source.metadata.clock) == .violated
        var lastError = globalClock ? "no quiet moment for the fdatasync to return"
            : "under a per-CPU clock only the 3.7 race orders the completion before the return, and it has no happens-before chain to the conversion"
        for race in [Race.endBioWindow, .workerTookList] where story.isEmpty {
            if race == .workerTookList && id.ordering == .happensBefore { continue }
            if race == .endBioWindow && !globalClock { continue }
            let tookFrom = globalClock ? xs + step : max(xs + step, tc + Scenario.anyClockGap)
            let window = race == .endBioWindow ? (tc + 2 * step)...(tc + 10 * step) : tookFrom...(tookFrom + 300_000)
            do {
                story = try bug.firstFit(window, cpu: x, task: f.pid, span: step) { s, tE in
                    s.place(try syncExit(s, at: tE, by: f, site: site), tags: [0: Scenario.firstDeciding])
                    if id.ordering == .happensBefore {
                        s.move(site.queueWork, to: tE + step)
                        if let a = site.activateWork { s.move(a, to: tE + step) }
                        return try s.convertInline(site, by: f, after: tE, deciderCPU: x)
                    }
                    return try s.convertLater(site, race: race, after: tE, deciderCPU: x, ordering: id.ordering,
                                              queueAt: tE + step)
                }
            } catch let u as Unhostable {
                lastError = "\(race.rawValue): \(u)"
            }
        }
        guard !story.isEmpty else { throw Unhostable(lastError) }

        // Twin: the same fdatasync returns after the conversion released the folios.
        let tEnd = index.timestamp(site.executeEnd)
        guard let tT = twin.schedule.quietStart(cpu: x, from: twin.aligned(tEnd + 2 * step), span: step, for: f.pid, step: step) else {
            throw Unhostable("CPU \(x) is never quiet after the conversion")
        }
        try twin.requireNoPendingWriteback(site.inode, at: tT)
        twin.place(try syncExit(twin, at: tT, by: f, site: site))
        if id.ordering == .happensBefore {
            let t2 = twin.aligned(tT + 20_000)
            let g = f.on(completion.cpu)
            guard twin.schedule.isQuiet(cpu: g.cpu, from: t2, to: t2 + 3 * twin.step, for: f.pid) else {
                throw Unhostable("CPU \(g.cpu) is busy where the twin's second fdatasync would go")
            }
            try twin.requireNoPendingWriteback(site.inode, at: t2 + 2 * twin.step)
            twin.place(try [
                twin.make("sys_enter_fdatasync", at: t2, by: g, [.int("fd", 3)]),
                twin.make("ext4_sync_file_enter", at: t2 + twin.step, by: g, [.uint("ino", site.inode.ino), .int("datasync", 1)]),
            ] + syncExit(twin, at: t2 + 2 * twin.step, by: g, site: site))
        }
        return try CaseMaker.assemble(
            id, bug: bug, twin: twin, site: site, rule: .fsyncBeforeConversion, blocks: site.blocks,
            story: "fdatasync by \(comm)-\(f.pid) on \(site): woken when the last bio completed (≤3.10 ended writeback in ext4_end_bio) it returned 0 before the io_end was queued; \(story). Mirrors 3.6 ext4_end_bio/ext4_sync_file (seed 002).",
            twinStory: "the same fdatasync returns after the worker converted the extent and ended writeback (the recorded 6.x order)")
    }

    static func syncExit(_ s: Scenario, at t: UInt64, by actor: Actor, site: ConversionSite, ret: Int64 = 0) throws -> [TraceEvent] {
        try [
            s.make("ext4_sync_file_exit", at: t, by: actor, [.uint("ino", site.inode.ino), .int("ret", ret)]),
            s.make("sys_exit_fdatasync", at: t + s.step, by: actor, [.int("ret", ret)]),
        ]
    }
}
