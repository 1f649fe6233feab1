import KernelEvents
import TraceIO

/// evict-with-pending-io (seed 000; CVE-2025-38580 is the 6.15 form).
///
/// Mirrors 2.6.38's `ext4_evict_inode` (fs/ext4/inode.c), before Ts'o
/// added `ext4_ioend_wait` after seed 000: eviction truncated the page cache
/// and freed the inode without waiting for io_ends still queued for
/// conversion, while `ext4_end_bio` had already ended the pages' writeback
/// at completion — so nothing held the inode, and the worker later
/// converted on a freed inode (the use-after-free CVE-2025-38580 found again
/// in 6.15, where an io_end was queued after the inode's last writeback
/// ended).
///
/// After the site's last completion, a new `python3` task replaces the file
/// the way an atomic save does: it had created a temporary file earlier
/// (`ext4_request_inode`, `ext4_allocate_inode` of an unused number) and
/// renames it over the site's file (the rename syscall itself is not among
/// the recorded syscalls; `ext4_rename` has no tracepoint). The old inode's
/// last link goes: `ext4_drop_inode`, `ext4_evict_inode` (nlink 0), its
/// cached folios invalidated and deleted, `ext4_truncate` of every block,
/// `ext4_free_inode`. Nothing in the trace uses that inode afterwards (the
/// site is chosen so; a flusher's later look at it is left out as the
/// flusher would not find it). The conversion (recorded) follows the free:
/// (a) 1.2 ms later; (b) 20 µs later on the other CPU. (c) is not injected:
/// no task both frees an inode and later converts its io_end.
///
/// Twin: the same replacement after the worker converted and released the
/// folios (6.x: eviction waits for writeback, which ends after conversion).
enum EvictWithPendingIO {
    /// Events a flusher or sync emits about an inode it merely looks at:
    /// gone with the inode, they are dropped from the edited trace.
    static let housekeeping: Set<String> = [
        "writeback_single_inode_start", "writeback_single_inode", "writeback_write_inode_start",
        "writeback_write_inode", "ext4_discard_preallocations", "ext4_es_lookup_extent_enter",
        "ext4_es_lookup_extent_exit",
    ]

    static func make(_ id: CaseID, site: ConversionSite, index: TraceIndex, factory: EventFactory) throws -> MutationCase {
        guard id.ordering != .happensBefore else {
            throw Unhostable("no task both frees an inode and converts its io_end afterwards: no happens-before chain from the free to the conversion")
        }
        let completion = index.events[site.lastCompletion]
        let tc = completion.timestamp
        guard let x = index.otherCPU(than: completion.cpu) else { throw Unhostable("the trace shows one CPU only") }
        let inode = site.inode
        let runSet = Set(site.run)
        // Nothing may use the inode after its free but the postponed
        // conversion; when the recording goes on using it, it ends instead
        // (cut 2 ms after the case's last event, as if tracing stopped there).
        var dropped: [Int] = []
        var laterUse: Int?
        for i in index.firstIndex(atOrAfter: tc + 1)..<index.count where !runSet.contains(i) {
            let e = index.events[i]
            guard names(e, inode, index.typed[i]) else { continue }
            // Waits that ended with the release: ≤3.10 they found no writeback and go.
            if case .writeback(.waitOnWriteback) = index.typed[i], e.timestamp <= index.timestamp(site.executeEnd) { continue }
            if housekeeping.contains(e.name) { dropped.append(i); continue }
            if case .ext4(.writepages) = index.typed[i] { dropped.append(i); continue }
            if case .ext4(.writepagesResult) = index.typed[i], e.fields.int("pages_written") == 0 { dropped.append(i); continue }
            laterUse = i
            break
        }
        if laterUse != nil { dropped = [] }
        var bug = Scenario(index, factory: factory, device: site.inode.dev)
        var twin = Scenario(index, factory: factory, device: site.inode.dev)
        let task = bug.newTask("python3", cpu: x)
        _ = twin.newTask("python3", cpu: x)
        let step = bug.step
        let folios = index.cachedFolios(inode, before: tc)
        let dir = index.directory(of: inode)
        let tmp = index.unusedInode(on: inode.dev)

        // The temporary file, created before the io_end completed.
        let create = index.timestamp(site.mapping)
        guard let tCreate = bug.schedule.quietStart(cpu: x, before: create, span: step, for: task.pid, step: step) else {
            throw Unhostable("no quiet moment for the temporary file to be created")
        }
        let made = try [
            bug.make("ext4_request_inode", at: tCreate, by: task, [.uint("dir", dir)]),
            bug.make("ext4_allocate_inode", at: tCreate + step, by: task, [.uint("ino", tmp), .uint("dir", dir)]),
        ]
        bug.place(made)
        twin.place(made)
        func replacement(_ s: Scenario, at t: UInt64) throws -> Removal {
            try Removal.make(.evict, inode: inode, blockSize: site.blockSize, folios: folios,
                             allocatedBlocks: index.allocatedBlocks(inode), by: task, at: t, step: step,
                             running: runningTransaction(at: t, dev: inode.dev, index: index, fallback: 1), in: s)
        }
        // The removal's journal handles join the transaction running when it
        // starts: a commit may not start while they are being spread out.
        func spreadInOneTransaction(_ s: Scenario, _ r: Removal, at t: UInt64) throws -> [TraceEvent] {
            let events = try s.spread(r.events, cpu: x, from: t)
            let last = events.last?.timestamp ?? t
            guard runningTransaction(at: last, dev: inode.dev, index: index, fallback: 1)
                    == runningTransaction(at: t, dev: inode.dev, index: index, fallback: 1) else {
                throw Unhostable("a journal commit starts while the eviction runs")
            }
            return events
        }
        // Eviction truncates the page cache, which waits on every folio's
        // writeback (`truncate_inode_pages_final`, also in 2.6.38): no other
        // io_end of the inode may be in flight while it runs. ≤3.10 ended the
        // site's writeback at its completion, so only the site's bios are exempt.
        let siteBios = Set(site.bioQueues)
        func requireNoOtherWriteback(_ events: [TraceEvent], exempt: Set<Int>) throws {
            guard let first = events.first?.timestamp, let last = events.last?.timestamp else { return }
            let busy = (index.writeback[inode] ?? []).first { b in
                !exempt.contains(b.queue) && index.timestamp(b.queue) < last
                    && (b.completion.map { index.timestamp($0) > first } ?? true)
            }
            if let b = busy {
                throw Unhostable("other writeback of the inode is in flight while the eviction would wait on its folios (bio at event \(b.queue))")
            }
        }
        let story = try bug.firstFit((tc + 2 * step)...(tc + 200_000), cpu: x, task: task.pid, span: step) { s, t in
            let r = try replacement(s, at: t)
            let events = try spreadInOneTransaction(s, r, at: t)
            try requireNoOtherWriteback(events, exempt: siteBios)
            var tags = [r.freeInode!: Scenario.firstDeciding]
            if let e = r.evict { tags[e] = "first.evict" }
            s.place(events, tags: tags)
            for d in dropped { s.remove(d) }
            return try s.convertLater(site, race: .workerNotYetRun, after: events[r.freeInode!].timestamp, deciderCPU: x,
                                      ordering: id.ordering, queueAt: nil)
        }
        let release = index.timestamp(site.executeEnd)
        _ = try twin.firstFit((release + 2 * step)...(release + 300_000), cpu: x, task: task.pid, span: step) { s, t in
            let events = try spreadInOneTransaction(s, try replacement(s, at: t), at: t)
            try requireNoOtherWriteback(events, exempt: [])
            try s.requireNoPendingWriteback(inode, at: events.first!.timestamp, for: "eviction would begin")
            s.place(events)
            for d in dropped where index.timestamp(d) > t { s.remove(d) }
            return ()
        }
        var ending = ""
        if let use = laterUse {
            let end = max(bug.trace.lastPlacedTime, twin.trace.lastPlacedTime) + 2_000_000
            bug.trace.cut(after: end)
            twin.trace.cut(after: end)
            ending = " The recording uses the inode later (event \(use)): it ends 2 ms after the case instead."
        }
        return try CaseMaker.assemble(
            id, bug: bug, twin: twin, site: site, rule: .evictWithPendingIO,
            generation: index.generation(inode, at: site.mapping), blocks: site.blocks,
            story: "after the last bio of \(site) completed (≤3.10 ended writeback in ext4_end_bio), \(task.comm)-\(task.pid) renamed a new file (ino \(tmp)) over it: the inode was evicted and freed with its io_end still queued; \(story). Mirrors 2.6.38 ext4_evict_inode (no ext4_ioend_wait, seed 000); CVE-2025-38580 is the 6.15 form.\(ending)",
            twinStory: "the same replacement after the worker converted the extent and released the folios")
    }

    /// Whether an event is about `inode` (ext4 and writeback events by number, filemap by i_ino).
    static func names(_ e: TraceEvent, _ inode: InodeKey, _ k: KernelEvent) -> Bool {
        switch k {
        case .ext4(let x): return x.inode == inode
        case .writeback(.dirtyFolio(_, let ino, _)), .writeback(.waitOnWriteback(_, let ino, _)): return ino == inode.ino
        case .writeback(.markInodeWriteback(let r)), .writeback(.clearInodeWriteback(let r)): return r == inode
        case .filemap(.addToPageCache(let r, _, _)), .filemap(.deleteFromPageCache(let r, _, _)),
             .filemap(.fault(let r, _)), .filemap(.getPages(let r, _, _)): return r == inode
        default:
            return e.fields.uint("ino") == inode.ino && e.device == inode.dev
        }
    }
}

extension TraceIndex {
    /// The directory `inode` was created in (`ext4_allocate_inode dir`), or the root.
    func directory(of inode: InodeKey) -> UInt64 {
        for (i, k) in typed.enumerated() {
            if case .ext4(.allocateInode(let ref)) = k, ref == inode, let d = events[i].fields.uint("dir") { return d }
        }
        return 2
    }

    /// An inode number the trace never names on `dev`: the next after the highest.
    func unusedInode(on dev: DeviceNumber) -> UInt64 {
        var highest: UInt64 = 11
        for k in typed {
            if case .ext4(let x) = k, let ref = x.inode, ref.dev == dev, ref.ino < 1 << 20 { highest = max(highest, ref.ino) }
        }
        return highest + 1
    }
}
