import KernelEvents
import TraceIO

/// unstable-page-write (seed 003), replayed on a device that needs stable
/// pages (`stable_writes`).
///
/// Mirrors the kernels before stable pages (3.0's `wait_on_page_writeback`
/// in `block_page_mkwrite`, Wong/Mason/Kara in seed 003; 6.x:
/// `folio_wait_stable`): a write fault on a folio under writeback did not
/// wait, so the store changed the data between the checksum (or RAID
/// parity) the device computed at submission and the write itself.
///
/// On a site's io_end, while its bio is in flight, a new `python3` process
/// that has the file mapped stores into the folio holding the io_end's
/// first page: `mm_filemap_fault` (its first touch of the mapping) and
/// `writeback_dirty_folio` (clean → dirty: `folio_clear_dirty_for_io` ran at
/// submission) — and no wait. It goes on running: right after the store,
/// while the folio is still under writeback, it calls `msync(MS_ASYNC)`.
/// The store comes (a) 1.2 ms after the bio was
/// queued; (b) 20 µs after it on the other CPU; (c) 20 µs after it on the
/// other CPU, made by the task that submitted the writeback itself once its
/// syscall returned (`sync_file_range(WRITE)` does not wait). The end of
/// writeback is always ≥ 1 ms after the store.
///
/// Twin: the same store after the writeback ended.
enum UnstablePageWrite {
    static func make(_ id: CaseID, site: ConversionSite, index: TraceIndex, factory: EventFactory) throws -> MutationCase {
        let inode = site.inode
        let queued = site.bioQueues[0]
        let tS = index.timestamp(queued)
        let sCPU = index.events[queued].cpu
        let tEnd = max(index.timestamp(site.lastCompletion), index.timestamp(site.executeEnd))
        let release = index.timestamp(site.executeEnd)
        guard let other = index.otherCPU(than: sCPU) else { throw Unhostable("the trace shows one CPU only") }
        guard let folio = index.cachedFolios(inode, before: tS).first(where: { $0.pages.contains(site.pages.lowerBound) }) else {
            throw Unhostable("the folio of the io_end's first page is not in the page cache")
        }
        if let d = StaleReadBeforeConversion.redirtied(folio, inode, from: tS, to: release, index: index) {
            throw Unhostable("the recording dirties the folio again while it is under writeback (event \(d))")
        }
        var bug = Scenario(index, factory: factory, device: site.inode.dev)
        var twin = Scenario(index, factory: factory, device: site.inode.dev)
        let step = bug.step
        var storer = bug.newTask("python3", cpu: other)
        _ = twin.newTask("python3", cpu: other)
        let far = id.ordering == .farApart
        var tM = bug.aligned(tS + (far ? 1_200_000 : 20_000))
        if id.ordering == .happensBefore {
            // The submitter stores, once its syscall has returned.
            let t = index.events[queued]
            guard !t.comm.hasPrefix("kworker"), !t.comm.hasPrefix("jbd2"), t.pid != 0,
                  let back = index.byPid[t.pid]?.first(where: { $0 > queued && index.events[$0].name.hasPrefix("sys_exit_") }),
                  index.timestamp(back) < tM else {
                throw Unhostable("the writeback's submitter (\(t.comm)) does not return to user space before the data is written: it cannot be the one that stores")
            }
            storer = Actor(pid: t.pid, comm: t.comm, cpu: other)
            tM = max(tM, index.timestamp(back) + step)
        }
        guard tEnd > tM + 1_000_000 else {
            throw Unhostable("the bio completes \((tEnd - min(tEnd, tS)) / 1000) µs after it was queued: no room for a store ≥ 1 ms before the end of writeback")
        }
        // The fault dirties the folio (`block_page_mkwrite` → `folio_mark_dirty`:
        // `writeback_dirty_folio`, `writeback_mark_inode_dirty`) and returns
        // without waiting; the task goes on running — its `msync(MS_ASYNC)`
        // right after, while the folio is still under writeback, shows the
        // fault returned without a `folio_wait_writeback` (a task that only
        // runs again after the writeback ended may have been preempted
        // before a wait that found nothing to wait for).
        func store(_ s: Scenario, at t: UInt64, by a: Actor) throws -> [TraceEvent] {
            try [
                s.make("mm_filemap_fault", at: t, by: a, [.uint("i_ino", inode.ino), .uint("index", folio.index)]),
                s.make("writeback_dirty_folio", at: t + step, by: a, [.uint("ino", inode.ino), .uint("index", folio.index)]),
                s.make("writeback_mark_inode_dirty", at: t + 2 * step, by: a, [.uint("ino", inode.ino)],
                       where: { $0.fields.uint("flags") == 4 }),
                s.make("sys_enter_msync", at: t + 3 * step, by: a, [.int("flags", 1)]),
                s.make("sys_exit_msync", at: t + 4 * step, by: a, [.int("ret", 0)]),
            ]
        }
        _ = try bug.firstFit(tM...(tM + 20_000), cpu: other, task: storer.pid, span: 5 * step) { s, t in
            s.place(try store(s, at: t, by: storer),
                    tags: [0: "second.fault", 1: Scenario.secondDeciding, 3: "second.return"])
            return ()
        }
        bug.trace.tag(queued, Scenario.firstDeciding)
        // The folio's writeback started with the bio: `folio_start_writeback`
        // (`sb_mark_inode_writeback` when it is the inode's first folio under
        // writeback) in the same ext4_writepages pass is the same step.
        let submitter = index.events[queued].pid
        if let pass = index.byPid[submitter]?.last(where: { $0 < queued && index.events[$0].name == "ext4_writepages" }),
           let mark = index.byPid[submitter]?.first(where: {
               $0 > pass && $0 < queued && index.events[$0].name == "sb_mark_inode_writeback"
                   && index.events[$0].fields.uint("ino") == inode.ino
           }) {
            bug.trace.tag(mark, "first.writeback")
        }
        _ = try twin.firstFit((max(release, tEnd) + 2 * step)...(max(release, tEnd) + 300_000), cpu: other, task: storer.pid,
                              span: 5 * step) { s, t in
            s.place(try store(s, at: t, by: storer))
            return ()
        }
        let perPage = max(1, 4096 / site.blockSize)
        let blocks = (folio.index * perPage)..<((folio.index + (1 << UInt64(folio.order))) * perPage)
        var c = try CaseMaker.assemble(
            id, bug: bug, twin: twin, site: site, rule: .unstablePageWrite,
            generation: index.generation(inode, at: site.mapping), blocks: blocks,
            story: "\(storer.comm)-\(storer.pid) stored into folio \(folio.index) of \(site) while it was under writeback (its bio queued at event \(queued) of the source), without waiting, and went on running; \(far ? "1.2 ms" : "20 µs") after the bio was queued\(id.ordering == .happensBefore ? ", by the submitter itself after its syscall returned" : ""). Mirrors block_page_mkwrite before stable pages (seed 003).",
            twinStory: "the same store after the writeback ended",
            stableWrites: true)
        CaseAssembly.markStableWrites(&c.bug)
        CaseAssembly.markStableWrites(&c.twin)
        return c
    }
}
