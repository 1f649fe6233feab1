import KernelEvents
import TraceIO

/// The two races of seed 002 that let an operation which must wait for
/// the conversion (fsync, truncate, punch) go ahead while it is pending.
enum Race: String {
    /// 3.6: `ext4_end_bio` ended page writeback, then — in the same irq,
    /// µs later — put the io_end on `i_completed_io_list` and queued the
    /// worker: a task woken by the end of writeback ran its
    /// `ext4_flush_completed_IO` in between and found the list empty.
    case endBioWindow = "3.6 ext4_end_bio window"
    /// 3.7 (Monakhov's V4 cleanup, Kara's reply in seed 002): the worker had
    /// taken the list (`list_replace_init`) and was preempted before
    /// converting; the task's flush found the list empty.
    case workerTookList = "3.7 V4 list_replace_init race"
    /// ≤3.10, no race at all: the io_end was queued and the worker simply
    /// had not run yet — enough for anything that does not flush the list
    /// (a reader after reclaim, an evict that does not wait for io_ends).
    case workerNotYetRun = "≤3.10 worker not yet run"
}

extension Scenario {
    /// The site's conversion, by its worker, after the deciding event at
    /// `tD`: 1.2 ms later (a) or 20 µs later on a CPU other than
    /// `deciderCPU` (b). With `.endBioWindow` the completing irq queues the
    /// work at `queueAt`; with `.workerTookList` the worker's
    /// `execute_start` stays where it was recorded (before `tD`). The
    /// io_end's writeback ends at its completion (≤3.10). Returns a sentence
    /// for the case's story.
    mutating func convertLater(_ site: ConversionSite, race: Race, after tD: UInt64, deciderCPU: Int,
                               ordering: Ordering, queueAt: UInt64?) throws -> String {
        var tQ = index.timestamp(site.queueWork)
        var moved = site.runWithoutClear(index)
        switch race {
        case .endBioWindow:
            guard let q = queueAt else { throw Unhostable("internal: no queueing time for the end_bio window") }
            tQ = max(tQ, q)
            move(site.queueWork, to: tQ)
            if let a = site.activateWork { move(a, to: tQ) }
        case .workerTookList:
            guard index.timestamp(site.executeStart) < tD else {
                throw Unhostable("the worker had not started when the task went ahead")
            }
            moved.removeFirst()
        case .workerNotYetRun:
            break
        }
        let far = ordering == .farApart
        let tV = aligned(tD + (far ? 1_200_000 : 20_000))
        var cpuV = index.events[site.executeStart].cpu
        if !far {
            guard let other = index.otherCPU(than: deciderCPU) else { throw Unhostable("the trace shows one CPU only") }
            cpuV = other
        }
        let origin = index.timestamp(site.executeStart)
        let span = try moveTaskEvents(moved, pivot: site.convertStart, to: tV, cpu: cpuV)
        guard span.start > tQ else { throw Unhostable("the worker would start before its work was queued") }
        if race == .workerTookList, !schedule.isFree(task: site.worker, from: origin + 1, to: span.start - 1) {
            throw Unhostable("the worker runs other work between taking the list and converting")
        }
        try endWritebackAtCompletion(site, until: span.end)
        if let why = stallConflict(site, from: origin, to: span.end) { throw Unhostable("cannot postpone the conversion: " + why) }
        tagConversion(site)
        return (far ? "the worker converts 1.2 ms later" : "the worker converts 20 µs later on CPU \(cpuV), nothing ordering the two")
            + " (\(race.rawValue))"
    }

    /// (c) The deciding task itself converts the queued io_end 20 µs after
    /// `tD`, on another CPU, inside an fdatasync (3.6's
    /// `ext4_flush_completed_IO` drains the list in the caller's context);
    /// the worker then runs and finds the list empty. The irq must have
    /// queued the io_end before (`.endBioWindow`).
    mutating func convertInline(_ site: ConversionSite, by task: Actor, after tD: UInt64, deciderCPU: Int) throws -> String {
        guard let cpuV = index.otherCPU(than: deciderCPU) else { throw Unhostable("the trace shows one CPU only") }
        let f = task.on(cpuV)
        let tV = aligned(tD + 20_000)
        let work = site.conversionWork(index)
        let before = work.prefix { $0 != site.convertStart }.count
        let t2 = tV - UInt64(before + 2) * step
        guard trace.event(site.queueWork).timestamp < t2 else { throw Unhostable("the io_end is not queued before the second fdatasync") }
        guard schedule.isQuiet(cpu: cpuV, from: t2, to: t2 + step, for: f.pid), schedule.isFree(task: f.pid, from: t2, to: t2 + step) else {
            throw Unhostable("CPU \(cpuV) is busy where the second fdatasync would enter")
        }
        place(try [
            make("sys_enter_fdatasync", at: t2, by: f, [.int("fd", 3)]),
            make("ext4_sync_file_enter", at: t2 + step, by: f, [.uint("ino", site.inode.ino), .int("datasync", 1)]),
        ])
        let span = try moveTaskEvents(work, pivot: site.convertStart, to: tV, cpu: cpuV, as: f, cap: step)
        guard schedule.isQuiet(cpu: cpuV, from: span.end + step, to: span.end + 2 * step, for: f.pid) else {
            throw Unhostable("CPU \(cpuV) is busy where the second fdatasync would return")
        }
        place(try [
            make("ext4_sync_file_exit", at: span.end + step, by: f, [.uint("ino", site.inode.ino), .int("ret", 0)]),
            make("sys_exit_fdatasync", at: span.end + 2 * step, by: f, [.int("ret", 0)]),
        ])
        // The worker finds the list empty.
        let empty = site.run.filter { if case .workqueue = index.typed[$0] { return true } else { return false } }
        let idle = try moveTaskEvents(empty, pivot: empty[0], to: aligned(span.end + 10 * step),
                                      cpu: index.events[site.executeStart].cpu)
        try endWritebackAtCompletion(site, until: idle.end)
        if let why = stallConflict(site, from: index.timestamp(site.executeStart), to: idle.end) {
            throw Unhostable("cannot postpone the conversion: " + why)
        }
        tagConversion(site)
        return "20 µs later the same task calls fdatasync on CPU \(cpuV) and converts the queued io_end itself (\(Race.endBioWindow.rawValue), ext4_flush_completed_IO)"
    }

    /// Tags the conversion of the site as the second deciding event.
    mutating func tagConversion(_ site: ConversionSite) {
        for p in site.conversion { trace.tag(p, p == site.convertStart ? Scenario.secondDeciding : "second.\(p)") }
    }

    /// Tries `attempt` at each time of `window` (in steps) where `cpu` is
    /// quiet for `task`, on a copy of the scenario; keeps the first that works.
    mutating func firstFit<T>(_ window: ClosedRange<UInt64>, cpu: Int, task: Int32, span: UInt64,
                              _ attempt: (inout Scenario, UInt64) throws -> T) throws -> T {
        var reasons: [String] = []
        var t = aligned(window.lowerBound)
        while t <= window.upperBound {
            defer { t += step }
            guard schedule.isQuiet(cpu: cpu, from: t, to: t + span, for: task), schedule.isFree(task: task, from: t, to: t + span) else { continue }
            var copy = self
            do {
                let result = try attempt(&copy, t)
                self = copy
                return result
            } catch let u as Unhostable {
                reasons.append(u.description)
            }
        }
        throw Unhostable(reasons.last ?? "CPU \(cpu) is never quiet in that window")
    }

    /// Throws when an fdatasync of `inode` returning at `t` (or another
    /// operation that waits on all its writeback, `what`) would go on
    /// over writeback the recording shows still pending: a bio in flight, or
    /// the inode still marked under writeback (`sb_mark_inode_writeback`
    /// without its `sb_clear_inode_writeback` yet; 6.x clears it only after
    /// the last folio's writeback ended, after conversion). A twin's
    /// fdatasync or eviction must be legal for every io_end of the file, not only the site's.
    func requireNoPendingWriteback(_ inode: InodeKey, at t: UInt64, for what: String = "fdatasync would return") throws {
        if !index.writebackInFlight(inode, at: t).isEmpty {
            throw Unhostable("writeback of the inode is in flight where the twin's \(what)")
        }
        var i = index.firstIndex(atOrAfter: t + 1) - 1
        while i >= 0 {
            switch index.typed[i] {
            case .writeback(.markInodeWriteback(let r)) where r == inode:
                throw Unhostable("the inode is under writeback where the twin's \(what)")
            case .writeback(.clearInodeWriteback(let r)) where r == inode:
                return
            default:
                i -= 1
            }
        }
    }
}
