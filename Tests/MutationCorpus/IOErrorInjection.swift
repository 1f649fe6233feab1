import KernelEvents
import TraceIO

/// conversion-after-io-error (e856f93e0fb2).
///
/// Mirrors `ext4_end_io_end` before e856f93e0fb2 ("ext4: do not convert the
/// unwritten extents if data writeback fails", fs/ext4/page-io.c; Debian's
/// 5.10 and 6.1 still have it): `ext4_end_bio` records the bio's error
/// (`mapping_set_error`), the io_end is queued as usual, and the worker
/// converts its extent to written although the data never reached the disk
/// — reads now return stale blocks. The last request of the site's io_end
/// completes with -EIO (`block_rq_complete … [-5]`, as a failing disk
/// reports it), the worker converts as recorded, and the next fsync of the
/// file reports the error (`ext4_sync_file_exit ret -5`, the syscall returns
/// -5): a recorded one, or an fdatasync by a new `xfs_io` after the conversion.
///
/// Orderings of (failed completion, conversion): (a) a request of the
/// io_end completing ≥ 1.2 ms before the recorded conversion fails (or,
/// when none did, the worker converts 1.2 ms after the last one, which
/// fails); (c) the last request fails and the worker converts 20 µs after
/// it on the other CPU — the
/// failing irq queued the work itself (`workqueue_queue_work` on its CPU →
/// `execute_start` → CONVERT). (b) does not exist: a conversion always
/// follows the completion that ends its io_end, and the event graph knows
/// that edge (bio completion → CONVERT of its data).
///
/// Twin: the same trace with the completion succeeding (and the fsync returning 0).
enum ConversionAfterIOError {
    static let eio: Int64 = -5

    static func make(_ id: CaseID, site: ConversionSite, index: TraceIndex, factory: EventFactory) throws -> MutationCase {
        guard id.ordering != .unordered else {
            throw Unhostable("a failed completion always happens before the conversion it leads to (the graph's bio → conversion edge): no unordered pair exists")
        }
        guard site.queuedByLastCompletion else {
            throw Unhostable("the io_end joined a list whose work an earlier completion had queued")
        }
        let completion = index.events[site.lastCompletion]
        let tc = completion.timestamp
        var bug = Scenario(index, factory: factory, device: site.inode.dev)
        var twin = Scenario(index, factory: factory, device: site.inode.dev)
        let step = bug.step
        var failed = site.lastCompletion
        var moveTo: (cpu: Int, t: UInt64)?
        let story: String
        switch id.ordering {
        case .farApart:
            let v = index.timestamp(site.convertStart)
            if let early = site.completions.first(where: { v - index.timestamp($0) >= 1_200_000 }) {
                // A request of the io_end that completed long before the conversion fails.
                failed = early
                story = "the worker converts \((v - index.timestamp(early)) / 1000) µs after the failed completion, as recorded"
            } else {
                moveTo = (index.events[site.executeStart].cpu, bug.aligned(tc + 1_200_000))
                story = "the worker converts 1.2 ms after the failed completion"
            }
        case .happensBefore:
            guard let cpu = index.otherCPU(than: completion.cpu) else { throw Unhostable("the trace shows one CPU only") }
            moveTo = (cpu, bug.aligned(tc + 20_000))
            story = "the failing irq queues the conversion work on CPU \(completion.cpu); the worker converts 20 µs later on CPU \(cpu)"
        default:
            throw Unhostable("no such ordering for this rule")
        }
        // Bug and twin run the worker at the same time; only the error differs.
        if let (workerCPU, tV) = moveTo {
            for k in 0..<2 {
                var s = k == 0 ? bug : twin
                let span = try s.moveTaskEvents(site.run, pivot: site.convertStart, to: tV, cpu: workerCPU)
                guard span.start > index.timestamp(site.activateWork ?? site.queueWork) else {
                    throw Unhostable("the worker would start before the failing irq queued it")
                }
                if let why = s.stallConflict(site, from: index.timestamp(site.executeStart), to: span.end)
                    ?? s.waiterResumesEarly(site, releasedAt: span.end) {
                    throw Unhostable("cannot move the conversion: " + why)
                }
                if k == 0 { bug = s } else { twin = s }
            }
        }
        bug.trace.update(failed) { EventFactory.apply([.int("error", eio)], to: &$0) }
        bug.trace.tag(failed, Scenario.firstDeciding)
        for p in site.conversion { bug.trace.tag(p, p == site.convertStart ? Scenario.secondDeciding : "second.\(p)") }

        // The next fsync of the file reports the error.
        let fsyncNote: String
        if let recorded = nextSyncExit(after: failed, site: site, index: index) {
            bug.trace.update(recorded.exit) { EventFactory.apply([.int("ret", eio)], to: &$0) }
            if let sys = recorded.syscall { bug.trace.update(sys) { EventFactory.apply([.int("ret", eio)], to: &$0) } }
            fsyncNote = "the recorded fsync returning at event \(recorded.exit) reports -EIO"
        } else {
            let after = bug.trace.event(site.executeEnd).timestamp + 20 * step
            let f = bug.newTask(FsyncBeforeConversion.comm, cpu: completion.cpu)
            _ = twin.newTask(FsyncBeforeConversion.comm, cpu: completion.cpu)
            guard let t = bug.schedule.quietStart(cpu: f.cpu, from: bug.aligned(after), span: 5 * step, for: f.pid, step: step),
                  twin.schedule.isQuiet(cpu: f.cpu, from: t, to: t + 5 * step, for: f.pid) else {
                throw Unhostable("no quiet moment after the conversion for the fdatasync that reports the error")
            }
            for (s, ret) in [(0, eio), (1, Int64(0))] {
                var scenario = s == 0 ? bug : twin
                scenario.place(try [
                    scenario.make("sys_enter_fdatasync", at: t, by: f, [.int("fd", 3)]),
                    scenario.make("ext4_sync_file_enter", at: t + step, by: f, [.uint("ino", site.inode.ino), .int("datasync", 1)]),
                    scenario.make("ext4_writepages", at: t + 2 * step, by: f, [.uint("ino", site.inode.ino), .int("sync_mode", 1)]),
                    scenario.make("ext4_writepages_result", at: t + 3 * step, by: f,
                                  [.uint("ino", site.inode.ino), .int("ret", 0), .int("pages_written", 0), .int("sync_mode", 1)]),
                ] + FsyncBeforeConversion.syncExit(scenario, at: t + 4 * step, by: f, site: site, ret: ret))
                if s == 0 { bug = scenario } else { twin = scenario }
            }
            fsyncNote = "an fdatasync by \(f.comm)-\(f.pid) after the conversion returns -EIO"
        }
        return try CaseMaker.assemble(
            id, bug: bug, twin: twin, site: site, rule: .conversionAfterIOError, blocks: site.blocks,
            story: "a request of the io_end of \(site) completes with -EIO (event \(failed) of the source); \(story); \(fsyncNote). Mirrors ext4_end_io_end before e856f93e0fb2 (5.10, 6.1).",
            twinStory: "the same trace with the completion succeeding: the conversion is legal")
    }

    /// The first successful `ext4_sync_file_exit` of the inode after `position`, and the
    /// syscall exit its task prints next.
    static func nextSyncExit(after position: Int, site: ConversionSite, index: TraceIndex) -> (exit: Int, syscall: Int?)? {
        guard let exit = (position..<index.count).first(where: {
            if case .ext4(.syncFileExit(let ref, let ret)) = index.typed[$0] { return ref == site.inode && ret == 0 }
            return false
        }) else { return nil }
        let pid = index.events[exit].pid
        let sys = index.byPid[pid]?.first { $0 > exit && index.events[$0].name.hasPrefix("sys_exit_") }
        return (exit, sys)
    }
}
