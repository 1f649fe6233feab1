import EventGraph
import KernelEvents
import TraceIO
import WritebackModel

// Dirtying and writeback: ext4_da_write_begin/end, write faults, and the
// ext4_writepages passes whose per-folio steps have no tracepoint.

extension ProfileReplay {
    /// `ext4_da_write_begin`: one call per folio (generic_perform_write).
    /// On a frozen fs the kernel would have blocked; the trace shows it did
    /// not, so the write goes through with the state as it is, and the
    /// rules see it.
    ///
    /// A folio under writeback on a stable device: the tracepoint is the
    /// first thing `ext4_da_write_begin` does; the wait comes after it,
    /// once the folio is found and locked (6.18 fs/ext4/inode.c:
    /// `write_begin_get_folio` → `__filemap_get_folio(FGP_WRITEBEGIN)`, whose
    /// FGP_STABLE is `folio_wait_stable` → `folio_wait_writeback`, which
    /// prints `folio_wait_writeback` before each sleep; 6.1:
    /// `grab_cache_page_write_begin`, the same FGP_STABLE). As for a write
    /// fault, whether the write waited shows in the task's next event
    /// (`taskMoved`): the write_begin is held until then.
    mutating func writeBegin(_ inode: ModelInode, pos: UInt64) {
        ensure(inode)
        inFileOperation.remove(now.pid)
        let folio = FolioRef(inode: inode, index: pos / pageSize)
        let t = Transition.ext4DaWriteBegin(task: Int(now.pid), folio)
        do {
            applied(t, try model.apply(t, in: &state))
        } catch {
            if case .folioUnderWriteback = error.blocker {
                heldStores[now.pid] = HeldStore(folio: folio, pages: [folio], waited: false, fault: now, writeBegin: true)
                return
            }
            drive(t, past: Self.writeBeginOverruled)
        }
    }

    static let writeBeginOverruled: Set<Blocker.Kind> = [.freezeBlocks, .folioUnderWriteback, .folioLocked]

    mutating func writeEnd(_ inode: ModelInode) {
        guard case .bufferedWrite? = state.tasks[Int(now.pid)]?.operation else { return }
        drive(.ext4DaWriteEnd(task: Int(now.pid)))
    }

    /// `writeback_dirty_folio` outside a buffered write: a write fault
    /// (`ext4_page_mkwrite`), or the PTE dirty bit moved into the folio by
    /// `folio_mkclean` inside writeback (seed 001 case [4]).
    mutating func dirtyFolio(_ folio: FolioRef) {
        let pid = Int(now.pid)
        if case .bufferedWrite? = state.tasks[pid]?.operation { return }
        if spans[now.pid] != nil || state.tasks[pid]?.writeback != nil { return }
        ensureFolio(folio)
        guard state.folio(folio)?.dirty != true else { return }
        if inFileOperation.contains(now.pid) {
            learn(.folioDirtied(folio))
            return
        }
        if state.tasks[pid] != nil { releaseTask(pid) }
        do {
            applied(.ext4PageMkwrite(task: pid, folio), try model.apply(.ext4PageMkwrite(task: pid, folio), in: &state))
        } catch {
            if case .folioUnderWriteback = error.blocker {
                // `block_page_mkwrite` marks the folio dirty, then
                // `folio_wait_stable`: whether the store waited shows in
                // this task's next event (`taskMoved`). The pages of one
                // large folio come from the same event and wait together.
                if let held = heldStores[now.pid], held.fault.index == now.index {
                    heldStores[now.pid]!.pages.append(folio)
                } else {
                    heldStores[now.pid] = HeldStore(folio: folio, pages: [folio], waited: false, fault: now)
                }
                return
            }
            forceStore(folio, error)
        }
    }

    /// The event after a write fault (or write_begin) that found its folio
    /// under writeback on a stable device. A `folio_wait_writeback` on that
    /// folio (`waited`: its inode and pages): the task waits (the step is
    /// still held). Any other event of the task: the fault or write_begin
    /// returned — after the wait, writeback had ended (bound 4) and the
    /// store lands on a stable folio; without one, it went on while the
    /// folio was under writeback.
    mutating func taskMoved(waitingOn waited: (inode: ModelInode, pages: Range<UInt64>)?) {
        guard let held = heldStores[now.pid] else { return }
        if !held.waited, let waited, waited.inode == held.folio.inode, waited.pages.contains(held.folio.index) {
            heldStores[now.pid]!.waited = true
            return
        }
        heldStores[now.pid] = nil
        let pid = Int(now.pid)
        if held.waited { endWritebackSeen(held.folio.inode, only: Set(held.pages.map(\.index))) }
        if held.writeBegin {
            drive(.ext4DaWriteBegin(task: pid, held.folio), past: Self.writeBeginOverruled)
            return
        }
        for page in held.pages {
            do {
                applied(.ext4PageMkwrite(task: pid, page), try model.apply(.ext4PageMkwrite(task: pid, page), in: &state))
            } catch {
                forceStore(page, error)
            }
        }
    }

    /// The trace shows a store the model would not make here: it lands.
    mutating func forceStore(_ folio: FolioRef, _ refusal: NotEnabled) {
        let pid = Int(now.pid)
        if case .pteWritable = refusal.blocker {} else {
            diverge(.ext4PageMkwrite(task: pid, folio), object: "\(folio)", reason: refusal.reason)
        }
        // The fault went through (or no fault was needed): the store
        // lands through a writable PTE and the folio becomes dirty.
        learn(.faultedWritable(folio))
        drive(.userStore(task: pid, folio))
        drive(.zapPteRange(task: pid, folio))
    }

    /// `ext4_writepages`: the flusher, sync_file_range or a sync. Inside
    /// fsync the model's own cursor already covers it.
    ///
    /// 6.x `ext4_do_writepages` first submits the folios whose blocks are
    /// all mapped, with an io_end of its own and no
    /// `ext4_da_write_folios_start` (that span only wraps the mapping
    /// loop): its bios belong to an implicit span from the start of the
    /// range, so an msync of written pages maps its bios to its dirty folios.
    mutating func writepages(_ inode: ModelInode, syncAll: Bool) {
        ensure(inode)
        let pid = Int(now.pid)
        spans[now.pid] = WritebackSpan(inode: inode, cursor: 0, start: now)
        if case .syncFile(let p)? = state.tasks[pid]?.operation, p.inode == inode { return }
        if case .freeze? = state.tasks[pid]?.operation { return }
        drive(.ext4Writepages(task: pid, inode, syncAll: syncAll))
    }

    /// `ext4_da_write_folios_start`: a new io_end. The previous one's owner
    /// reference is dropped first (`ext4_put_io_end` after its submit).
    mutating func writeFoliosStart(_ inode: ModelInode, startPos: UInt64, syncAll: Bool) {
        ensure(inode)
        putOwnerReference(Int(now.pid))
        if state.tasks[Int(now.pid)]?.writeback == nil {
            // No ext4_writepages seen (not recorded, or lost): infer it.
            drive(.ext4Writepages(task: Int(now.pid), inode, syncAll: syncAll))
        }
        spans[now.pid] = WritebackSpan(inode: inode, cursor: startPos, start: now)
    }

    /// `ext4_da_write_folios_end`: `ext4_do_writepages` submitted the
    /// span's bio and dropped its io_end reference just before the event
    /// (`ext4_io_submit`, then `ext4_put_io_end_defer` or `ext4_put_io_end`,
    /// 6.18 inode.c:2951-2963): the put is no later than here.
    mutating func writeFoliosEnd(_ inode: ModelInode) {
        putOwnerReference(Int(now.pid))
    }

    /// A mapping inside the span: `ext4_da_write_pages_extent`,
    /// `ext4_ext_map_blocks_exit` for IO_SUBMIT. `U` means the io_end will
    /// need conversion; seeing it also tells the mount uses dioread_nolock.
    mutating func spanMapped(_ range: BlockRange, unwritten: Bool, pblk: UInt64? = nil) {
        guard spans[now.pid] != nil, range.len > 0 else { return }
        if let i = spans[now.pid]!.mapped.firstIndex(where: { $0.0 == range }) {
            spans[now.pid]!.mapped[i].unwritten = spans[now.pid]!.mapped[i].unwritten || unwritten
            if let pblk { spans[now.pid]!.mapped[i].pblk = pblk }
        } else {
            spans[now.pid]!.mapped.append((range, unwritten, pblk))
        }
        if unwritten, let dev = spans[now.pid]?.inode.dev { learn(.dioreadNolock(dev)) }
    }

    /// `block_bio_queue` of a write the event graph bound to `owner` (the
    /// inode the task is writing back): the io_end's folios are the blocks
    /// the bio carries when the task mapped them (`BoundBio.blocks`), else
    /// the dirty ones from the span's cursor, as many as the bio carries.
    /// The first of them may already be under writeback
    /// (`inodeWritebackMarked`); the others' PG_writeback set is invisible
    /// (§4.3) and is placed here. Then the model's folio steps and `ext4_io_submit`.
    mutating func bioQueued(_ bio: BoundBio, owner: ModelInode) {
        guard var span = spans[now.pid], span.inode == owner, bio.sectors.count > 0 else { return }
        let pid = Int(now.pid)
        let inode = span.inode
        guard state.inodes[inode] != nil, let sb = state.superblocks[inode.dev] else { return }
        prepareSubmitter(pid, inode)
        let started = span.started
        span.started = []
        let pages = max(1, bio.sectors.count * 512 / pageSize)
        let first = span.cursor / pageSize
        var folios: ArraySlice<UInt64>
        let mappedPages = span.mappedPages(blocksPerFolio: sb.blocksPerFolio)
        if let blocks = bio.blocks {
            // The bio carries blocks the span mapped: its folios are theirs.
            let per = max(1, sb.blocksPerFolio)
            folios = ArraySlice(Array((blocks.lblk / per)...((blocks.end - 1) / per)))
        } else {
            // Folios whose buffers were already mapped: the dirty ones from
            // the span's cursor that the span did not map, after those
            // already under writeback.
            let count = Int(pages) - min(Int(pages), started.count)
            var rest = dirtyFolios(of: inode, from: first, count: count, excluding: mappedPages.union(started))
            if rest.isEmpty, span.mapped.isEmpty == false {
                rest = Array(mappedPages.filter { $0 >= first && !started.contains($0) }.sorted().prefix(count))
            }
            folios = ArraySlice(started + rest)
        }
        if folios.isEmpty {
            // The dirtying is not in the trace (it started mid-story): infer it.
            folios = ArraySlice((first..<first + pages).map { $0 })
        }
        for index in folios where !started.contains(index) {
            startWriteback(FolioRef(inode: inode, index: index), span: span)
        }
        span.cursor = max(span.cursor, ((folios.last ?? first) + 1) * pageSize)
        spans[now.pid] = span
        guard let ioRef = state.tasks[pid]?.writeback?.ioEnd else { return }
        let count = Set(folios).union(started).count
        note(ioRef, "ext4_bio_write_folio: \(count) folio(s) under writeback, bio submitted")
        if drive(.ext4IoSubmit(task: pid, ioRef)), let n = state.ioEnd(ioRef)?.bios.count {
            liveBios[bio.id] = BioRef(ioEnd: ioRef, index: n - 1)
            spans[now.pid]?.ioEnd = ioRef
        }
    }

    /// `sb_mark_inode_writeback`, printed by `__folio_start_writeback`
    /// inside `ext4_bio_write_folio` (6.18 fs/ext4/page-io.c) when the inode
    /// had no folio under writeback: that folio's PG_writeback is set now,
    /// before `io_submit_add_bh` — its bio is queued only when a block does
    /// not merge or at `ext4_io_submit`, so a write fault may come between.
    /// The folio is the span's next one: writeback takes the dirty folios
    /// in index order from its cursor, and the blocks it just mapped. Blocks
    /// name folios only once the file system's block size is known (learnt
    /// from the first map → bio pair): before that, a span that mapped
    /// blocks leaves its folios to `block_bio_queue`, as before 6.18's mark.
    mutating func inodeWritebackMarked(_ inode: ModelInode) {
        guard var span = spans[now.pid], span.inode == inode,
              let folios = state.inodes[inode]?.folios, let sb = state.superblocks[inode.dev] else { return }
        guard blockSizeKnown.contains(inode.dev) || span.mapped.isEmpty else { return }
        let first = span.cursor / pageSize
        let dirty = dirtyFolios(of: inode, from: first, count: 1, excluding: Set(span.started)).first
        let mapped = span.mappedPages(blocksPerFolio: sb.blocksPerFolio)
            .filter { $0 >= first && folios[$0]?.writeback != true && !span.started.contains($0) }.min()
        guard let index = [dirty, mapped].compactMap({ $0 }).min(),
              folios[index]?.writeback != true else { return }
        prepareSubmitter(Int(now.pid), inode)
        startWriteback(FolioRef(inode: inode, index: index), span: span)
        span.started.append(index)
        span.cursor = max(span.cursor, (index + 1) * pageSize)
        spans[now.pid] = span
        if let ioRef = state.tasks[Int(now.pid)]?.writeback?.ioEnd {
            note(ioRef, "ext4_bio_write_folio: folio \(index) under writeback (sb_mark_inode_writeback), bio not yet queued")
        }
    }

    /// The task is in a writeback pass with an io_end to fill: infer
    /// `ext4_writepages` if it was not seen, and drop the reference on the
    /// previous io_end (`ext4_put_io_end` after its submit) — unless it is
    /// the span's own, which takes the next bio too (≥3.11; the model
    /// reopens it at `mpage_submit_folio`).
    mutating func prepareSubmitter(_ pid: Int, _ inode: ModelInode) {
        if state.tasks[pid]?.writeback == nil { drive(.ext4Writepages(task: pid, inode, syncAll: true)) }
        guard let cursor = state.tasks[pid]?.writeback, cursor.ioEnd == nil else { return }
        if let owner = cursor.ownerReference, owner == spans[now.pid]?.ioEnd,
           model.takesNextBio(owner, of: inode, state) { return }
        putOwnerReference(pid)
    }

    /// `mpage_submit_folio` then `ext4_bio_write_folio` for one folio of
    /// the span: dirty (the trace shows it written), blocks as the span
    /// mapped them, locked and put under writeback in the task's io_end.
    /// The waits a traced submit went past, should the model disagree (built
    /// once: `startWriteback` runs for every folio written).
    static let submitGoesPast: Set<Blocker.Kind> = [.folioUnderWriteback, .folioLocked]

    mutating func startWriteback(_ folio: FolioRef, span: WritebackSpan) {
        let pid = Int(now.pid)
        ensureFolio(folio)
        if state.folio(folio)?.dirty != true { learn(.folioDirtied(folio)) }
        syncExtents(of: state.blocks(of: folio), span: span)
        learn(.writebackWrites(task: pid, folios: [folio.index]))
        drive(.mpageSubmitFolio(task: pid, folio), object: "\(folio)", past: Self.submitGoesPast)
        drive(.ext4BioWriteFolio(task: pid, folio), object: "\(folio)")
    }

    /// The `count` lowest dirty folio indexes ≥ `first` not in `excluded`.
    /// Writeback walks forward from its cursor, so the answer is usually
    /// right there: look index by index a little way, and scan the dirty
    /// tag only when the dirty folios are sparse — or so few that scanning
    /// them costs less than the walk's lookups.
    func dirtyFolios(of inode: ModelInode, from first: UInt64, count: Int, excluding excluded: Set<UInt64>) -> [UInt64] {
        guard let folios = state.inodes[inode]?.folios else { return [] }
        let dirty = folios.dirtyIndexes
        let walk = 4 * count + 64
        if dirty.count > walk {
            var found: [UInt64] = []
            var index = first
            while found.count < count, index < first &+ UInt64(walk), index >= first {
                if dirty.contains(index), !excluded.contains(index) { found.append(index) }
                index += 1
            }
            if found.count == count { return found }
        }
        return dirty.filter { $0 >= first && !excluded.contains($0) }.sorted().prefix(count).map { $0 }
    }

    /// Makes the model's extent map say what the span's mappings say about
    /// these blocks; blocks the span did not map were allocated and written
    /// before (writeback of mapped buffers needs no mapping).
    mutating func syncExtents(of blocks: BlockRange, span: WritebackSpan) {
        var covered = false
        for (range, unwritten, _) in span.mapped {
            guard let part = range.intersection(blocks) else { continue }
            covered = true
            learn(.mapped(span.inode, part, unwritten: unwritten))
        }
        if !covered { learn(.mapped(span.inode, blocks, unwritten: false)) }
    }

    /// `ext4_put_io_end` by the submitter, after its bio went out. If the
    /// bio already completed this is the last reference and the model
    /// converts inline (C′).
    mutating func putOwnerReference(_ pid: Int) {
        guard let owner = state.tasks[pid]?.writeback?.ownerReference else { return }
        if drive(.ext4PutIoEnd(task: pid, owner)) {
            if state.ioEnd(owner) == nil { note(owner, "ext4_put_io_end: last reference, released") }
        }
    }

    /// `ext4_writepages_result`: the pass is over; folios it left dirty stay dirty.
    mutating func writepagesResult(_ inode: ModelInode) {
        let pid = Int(now.pid)
        putOwnerReference(pid)
        spans[now.pid] = nil
        guard case .writepages? = state.tasks[pid]?.operation else { return }
        learn(.writebackWrites(task: pid, folios: []))
        drive(.ext4WritepagesResult(task: pid))
    }
}
