import KernelEvents
import TraceIO

/// stale-read-before-conversion (seeds 000, 002).
///
/// Mirrors ≤3.10 `ext4_end_bio` (fs/ext4/page-io.c): page writeback ended at
/// bio completion while the extent stayed unwritten until the worker ran,
/// so nothing kept the written folio in the page cache (Kara in seed 000:
/// "what prevents mm from reclaiming the page (and possibly loading zeros
/// from disk) before we finish the conversion?"). After the site's last
/// completion, reclaim (a new `kswapd0` task) releases and deletes the
/// folio holding the io_end's first page (`ext4_release_folio`,
/// `mm_filemap_delete_from_page_cache`), and a new `cat` reads it back:
/// `mm_filemap_add_to_page_cache` (the same pfn, as the page allocator hands
/// a just-freed page out again) and `mm_filemap_get_pages` — without a read
/// bio, because `ext4_mpage_readpages` zero-fills blocks the extent tree
/// still calls unwritten. The conversion (recorded, unchanged) follows the
/// re-read: (a) by the worker 1.2 ms later; (b) by the worker 20 µs later on
/// the other CPU; (c) by the reader itself, whose next call is an
/// fdatasync that converts the queued io_end (3.6 `ext4_flush_completed_IO`).
///
/// Twin: the same reclaim and re-read after the worker converted and
/// released the folio; the read then goes to disk (a read bio for the
/// folio's blocks, completed in irq).
enum StaleReadBeforeConversion {
    static func make(_ id: CaseID, site: ConversionSite, index: TraceIndex, factory: EventFactory) throws -> MutationCase {
        let completion = index.events[site.lastCompletion]
        let tc = completion.timestamp
        guard let x = index.otherCPU(than: completion.cpu) else { throw Unhostable("the trace shows one CPU only") }
        let inode = site.inode
        let perPage = max(1, 4096 / site.blockSize)
        guard let folio = index.cachedFolios(inode, before: tc).first(where: {
            $0.pages.contains(site.pages.lowerBound) && $0.pages.lowerBound >= site.pages.lowerBound
                && $0.pages.upperBound <= site.pages.upperBound
        }) else { throw Unhostable("no cached folio lies wholly inside the io_end's range") }
        if let dirtied = redirtied(folio, inode, from: index.timestamp(site.bioQueues[0]), to: tc, index: index) {
            throw Unhostable("the folio is dirtied again while under writeback (event \(dirtied)): reclaim could not take it")
        }
        if let next = index.nextPageCacheEvent(inode, pages: folio.pages, after: tc), next.adds {
            throw Unhostable("the trace adds the folio again at event \(next.position) without deleting it")
        }
        var bug = Scenario(index, factory: factory, device: site.inode.dev)
        var twin = Scenario(index, factory: factory, device: site.inode.dev)
        let kswapd = bug.newTask("kswapd0", cpu: x)
        let reader = bug.newTask("cat", cpu: x)
        _ = twin.newTask("kswapd0", cpu: x)
        _ = twin.newTask("cat", cpu: x)
        let step = bug.step

        func reclaim(_ s: Scenario, at t: UInt64) throws -> [TraceEvent] {
            try [
                s.make("ext4_release_folio", at: t, by: kswapd, [.uint("ino", inode.ino), .uint("index", folio.index)]),
                s.make("mm_filemap_delete_from_page_cache", at: t + step, by: kswapd,
                       [.uint("i_ino", inode.ino), .uint("index", folio.index), .uint("order", UInt64(folio.order)), .uint("pfn", folio.pfn)]),
            ]
        }
        func readAdd(_ s: Scenario, at t: UInt64) throws -> TraceEvent {
            try s.make("mm_filemap_add_to_page_cache", at: t, by: reader,
                       [.uint("i_ino", inode.ino), .uint("index", folio.index), .uint("order", UInt64(folio.order)), .uint("pfn", folio.pfn)])
        }
        func readDone(_ s: Scenario, at t: UInt64) throws -> TraceEvent {
            try s.make("mm_filemap_get_pages", at: t, by: reader,
                       [.uint("i_ino", inode.ino), .uint("index", folio.index),
                        .uint("last_index", folio.index + (1 << UInt64(folio.order)) - 1)])
        }

        // ≤3.10: the folio is clean and idle from the completion on; the
        // reclaim comes long enough after it for any clock to order the two
        // (nothing else does: no event shows the end of writeback).
        let from = tc + Scenario.anyClockGap
        let story = try bug.firstFit(from...(from + 300_000), cpu: x, task: kswapd.pid, span: 5 * step) { s, t in
            s.place(try reclaim(s, at: t))
            let add = try readAdd(s, at: t + 3 * step)
            let done = try readDone(s, at: t + 4 * step)
            s.place([add, done], tags: [0: Scenario.firstDeciding])
            let tR = t + 3 * step
            if id.ordering == .happensBefore {
                return try s.convertInline(site, by: reader, after: t + 4 * step, deciderCPU: x)
            }
            return try s.convertLater(site, race: .workerNotYetRun, after: tR, deciderCPU: x, ordering: id.ordering, queueAt: nil)
        }

        // Twin: reclaim and re-read after the release; the read goes to disk.
        let release = index.timestamp(site.executeEnd)
        guard let g = index.geometries[inode.dev] else { throw Unhostable("the file system's geometry is unknown") }
        let firstBlock = folio.index * perPage
        let sectors = g.sectors(pblk: site.extent.pblk + (firstBlock - site.extent.lblk), len: UInt64(1 << folio.order) * perPage)
        let irq = index.irqContext(cpu: x)
        _ = try twin.firstFit((release + 2 * step)...(release + 300_000), cpu: x, task: kswapd.pid, span: 7 * step) { s, t in
            s.place(try reclaim(s, at: t))
            s.place(try [
                readAdd(s, at: t + 3 * step),
                s.make("block_bio_queue", at: t + 4 * step, by: reader,
                       [.uint("sector", sectors.sector), .uint("nr_sector", sectors.count), .text("rwbs", "RA"), .text("comm", reader.comm)],
                       where: { $0.fields.string("rwbs")?.hasPrefix("R") == true }),
                s.make("block_rq_issue", at: t + 5 * step, by: reader,
                       [.uint("sector", sectors.sector), .uint("nr_sector", sectors.count), .text("rwbs", "RA"),
                        .uint("bytes", sectors.count * 512), .text("comm", reader.comm)],
                       where: { $0.fields.string("rwbs")?.hasPrefix("R") == true }),
            ])
            let tDone = t + 60 * step
            guard s.schedule.isQuiet(cpu: x, from: tDone, to: tDone + 2 * step, for: reader.pid) else {
                throw Unhostable("CPU \(x) is busy when the read completes")
            }
            s.place([try s.make("block_rq_complete", at: tDone, by: irq,
                                [.uint("sector", sectors.sector), .uint("nr_sector", sectors.count), .text("rwbs", "RA"), .int("error", 0)],
                                where: { $0.fields.string("rwbs")?.hasPrefix("R") == true })])
            s.place([try readDone(s, at: tDone + step)])
            if id.ordering == .happensBefore {
                let t3 = s.aligned(tDone + 20_000)
                let r = reader.on(completion.cpu)
                guard s.schedule.isQuiet(cpu: r.cpu, from: t3, to: t3 + 3 * step, for: reader.pid) else {
                    throw Unhostable("CPU \(r.cpu) is busy where the twin's fdatasync would go")
                }
                try s.requireNoPendingWriteback(inode, at: t3 + 2 * step)
                s.place(try [
                    s.make("sys_enter_fdatasync", at: t3, by: r, [.int("fd", 3)]),
                    s.make("ext4_sync_file_enter", at: t3 + step, by: r, [.uint("ino", inode.ino), .int("datasync", 1)]),
                ] + FsyncBeforeConversion.syncExit(s, at: t3 + 2 * step, by: r, site: site))
            }
            return ()
        }
        let blocks = firstBlock..<(firstBlock + UInt64(1 << folio.order) * perPage)
        return try CaseMaker.assemble(
            id, bug: bug, twin: twin, site: site, rule: .staleReadBeforeConversion,
            generation: index.generation(inode, at: site.mapping), blocks: blocks,
            story: "after the last bio of \(site) completed (≤3.10 ended writeback in ext4_end_bio), \(kswapd.comm)-\(kswapd.pid) reclaimed folio \(folio.index) (order \(folio.order)) and \(reader.comm)-\(reader.pid) read it back as zeros (no read bio: the extent is still unwritten); \(story). Mirrors ≤3.10 ext4_end_bio and seed 000.",
            twinStory: "the same reclaim and re-read after the worker converted and released the folio; the read goes to disk")
    }

    /// A `writeback_dirty_folio` of the folio in [from, to].
    static func redirtied(_ folio: CachedFolio, _ inode: InodeKey, from: UInt64, to: UInt64, index: TraceIndex) -> Int? {
        for i in index.firstIndex(atOrAfter: from)..<index.count where index.events[i].timestamp <= to {
            if case .writeback(.dirtyFolio(_, let ino, let page)) = index.typed[i], ino == inode.ino, folio.pages.contains(page) {
                return i
            }
        }
        return nil
    }
}
