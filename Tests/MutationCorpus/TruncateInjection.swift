import KernelEvents
import TraceIO

/// truncate-during-conversion (seed 002).
///
/// Mirrors 3.6/3.7's `ext4_ext_truncate` and `ext4_ext_punch_hole`
/// (fs/ext4/extents.c): they wait for page writeback — which `ext4_end_bio`
/// ended at bio completion — and rely on `ext4_flush_completed_IO` /
/// `ext4_flush_unwritten_io` to convert what is queued before removing
/// blocks; through one of seed 002's two races (`Race`) the flush finds the
/// list empty and the blocks go while their conversion is pending.
///
/// A new `xfs_io` process, on the CPU the completion did not run on, removes
/// the io_end's last block (as little as the bug needs, so that the rest of
/// the recording stays true): `ftruncate` when that block ends the file,
/// else `fallocate(PUNCH_HOLE|KEEP_SIZE)` of that block. It enters
/// while the io_end is under way and waits on its first folio
/// (`folio_wait_writeback`); woken by the completion it deletes the cached
/// folios of the range, then `ext4_ext_remove_space` removes the blocks;
/// in the end_bio window the irq queues the io_end only after that.
/// The conversion (recorded, unchanged) follows: (a) by the worker 1.2 ms
/// after the removal; (b) by the worker 20 µs after it on the other CPU;
/// (c) by the same task's next fdatasync, 20 µs after, on the other CPU.
///
/// Twin: the same removal after the worker converted and released the
/// folios (6.x: `truncate_pagecache` waits for writeback, which ends only
/// after the conversion).
enum TruncateDuringConversion {
    static func make(_ id: CaseID, site: ConversionSite, index: TraceIndex, factory: EventFactory) throws -> MutationCase {
        let completion = index.events[site.lastCompletion]
        let tc = completion.timestamp
        guard let x = index.otherCPU(than: completion.cpu) else { throw Unhostable("the trace shows one CPU only") }
        guard site.queuedByLastCompletion else {
            throw Unhostable("the io_end joined a list whose work an earlier completion had queued")
        }
        var bug = Scenario(index, factory: factory, device: site.inode.dev)
        var twin = Scenario(index, factory: factory, device: site.inode.dev)
        let t = bug.newTask(FsyncBeforeConversion.comm, cpu: x)
        _ = twin.newTask(FsyncBeforeConversion.comm, cpu: x)
        let step = bug.step
        let bs = site.blockSize
        let inode = site.inode

        // One block goes, the io_end's last: as little as the bug needs, so
        // the rest of the recording stays true. Truncate when that block
        // ends the file, else punch it.
        let last = site.extent.lblk + site.extent.len - 1
        let tail = index.allocatedBlocks(inode) == last + 1
        let kind: Removal.Kind = tail ? .truncate(size: last * bs) : .punch(offset: last * bs, length: bs)
        let removed = last..<(last + 1)
        let folios = index.cachedFolios(inode, before: tc)
        let perPage = max(1, 4096 / bs)
        let deleted = folios.filter { $0.index * perPage >= last && ($0.index + (1 << UInt64($0.order))) * perPage <= last + 1 }
        for f in deleted {
            if let use = index.usesOfFolios(inode, pages: f.pages, after: tc, waitsUntil: index.timestamp(site.executeEnd)) {
                throw Unhostable("the trace later uses the folio the removal deletes (event \(use))")
            }
        }
        func removal(_ s: Scenario, at time: UInt64) throws -> Removal {
            try Removal.make(kind, inode: inode, blockSize: bs, folios: folios, allocatedBlocks: index.allocatedBlocks(inode),
                             by: t, at: time, step: step,
                             running: runningTransaction(at: time, dev: inode.dev, index: index, fallback: 1), in: s)
        }
        // The task enters and waits for the io_end's writeback.
        let mapped = index.timestamp(site.mapping)
        guard tc > mapped + 5 * step,
              let t1 = bug.schedule.quietStart(cpu: x, before: bug.aligned(tc - 4 * step), span: 2 * step, for: t.pid,
                                               step: step, within: tc - 5 * step - mapped) else {
            throw Unhostable("no quiet moment on CPU \(x) between the io_end's mapping and its completion for the removal to enter")
        }
        let head = Array(try removal(bug, at: t1).events.prefix(2))
        let wait = try bug.make("folio_wait_writeback", at: t1 + 2 * step, by: t,
                                [.uint("ino", inode.ino), .uint("index", index.folioIndex(inode, page: last / perPage, before: tc))])
        bug.place(head + [wait])
        twin.place(head + [wait])

        // Woken by the completion, it removes the blocks; the conversion follows.
        let xs = index.timestamp(site.executeStart)
        var story = ""
        var lastError = "no quiet moment for the removal"
        for race in [Race.endBioWindow, .workerTookList] where story.isEmpty {
            if race == .workerTookList && id.ordering == .happensBefore { continue }
            let window = race == .endBioWindow ? (tc + 2 * step)...(tc + 10 * step) : (xs + step)...(xs + 300_000)
            do {
                story = try bug.firstFit(window, cpu: x, task: t.pid, span: step) { s, t2 in
                    var r = try removal(s, at: t2)
                    r.events.removeFirst(2)
                    let rest = try s.spread(r.events, cpu: x, from: t2)
                    s.place(rest, tags: [r.removeSpace - 2: Scenario.firstDeciding])
                    let tR = rest[r.removeSpace - 2].timestamp
                    let done = rest.last!.timestamp
                    // The end_bio window: the irq queues the io_end only
                    // after the task's flush found the list empty. The
                    // flush has no tracepoint (3.6/3.7 call it after the
                    // page cache is truncated, before the journal start of
                    // the removal), so the queueing goes after the blocks'
                    // removal, where no reading of the trace puts it before
                    // the flush.
                    let queued = tR + step
                    if id.ordering == .happensBefore {
                        s.move(site.queueWork, to: queued)
                        if let a = site.activateWork { s.move(a, to: queued) }
                        return try s.convertInline(site, by: t, after: max(tR, done), deciderCPU: x)
                    }
                    return try s.convertLater(site, race: race, after: max(tR, done), deciderCPU: x,
                                              ordering: id.ordering, queueAt: queued)
                }
            } catch let u as Unhostable {
                lastError = "\(race.rawValue): \(u)"
            }
        }
        guard !story.isEmpty else { throw Unhostable(lastError) }

        // Twin: the task goes on only after the release (6.x).
        let release = index.timestamp(site.executeEnd)
        _ = try twin.firstFit((release + 2 * step)...(release + 300_000), cpu: x, task: t.pid, span: step) { s, t2 in
            var r = try removal(s, at: t2)
            r.events.removeFirst(2)
            let rest = try s.spread(r.events, cpu: x, from: t2)
            s.place(rest)
            if id.ordering == .happensBefore {
                let g = t.on(completion.cpu)
                let t3 = s.aligned(rest.last!.timestamp + 20_000)
                guard s.schedule.isQuiet(cpu: g.cpu, from: t3, to: t3 + 3 * step, for: t.pid) else {
                    throw Unhostable("CPU \(g.cpu) is busy where the twin's fdatasync would go")
                }
                try s.requireNoPendingWriteback(site.inode, at: t3 + 2 * step)
                s.place(try [
                    s.make("sys_enter_fdatasync", at: t3, by: g, [.int("fd", 3)]),
                    s.make("ext4_sync_file_enter", at: t3 + step, by: g, [.uint("ino", inode.ino), .int("datasync", 1)]),
                ] + FsyncBeforeConversion.syncExit(s, at: t3 + 2 * step, by: g, site: site))
            }
            return ()
        }
        let what = tail ? "ftruncate to \(last * bs) bytes (the io_end's last block goes)" : "punch hole of block \(last), the io_end's last"
        return try CaseMaker.assemble(
            id, bug: bug, twin: twin, site: site, rule: .truncateDuringConversion, blocks: removed,
            story: "\(what) by \(t.comm)-\(t.pid) on \(site): woken when the last bio completed (≤3.10 ended writeback in ext4_end_bio), it removed the blocks while their conversion was pending; \(story). Mirrors 3.6/3.7 ext4_ext_truncate / ext4_ext_punch_hole with ext4_flush_completed_IO (seed 002).",
            twinStory: "the same \(tail ? "truncate" : "punch hole") removes the blocks after the worker converted them and released the folios (the recorded 6.x order)")
    }
}
