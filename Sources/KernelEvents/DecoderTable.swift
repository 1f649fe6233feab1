import TraceIO

/// How each known tracepoint becomes a typed event, with the alternatives
/// that other kernel versions use: several event names for one meaning
/// (page vs folio events) and several field names for one field.
enum DecoderTable {
    typealias Decode = @Sendable (inout FieldReader) -> KernelEvent

    /// A decoder in a struct: a closure stored in a dictionary as such is kept
    /// in its most general form, and every call went through two conversion
    /// thunks; in a struct it keeps its own.
    struct Entry: Sendable {
        let decode: Decode

        func callAsFunction(_ reader: inout FieldReader) -> KernelEvent { decode(&reader) }
    }

    /// Bytes per page (x86_64, every kernel the project records on): turns
    /// ext4_da_write_pages' `first_page` into ext4_da_write_folios_start's
    /// byte position.
    static let pageSize: UInt64 = 4096

    /// Event name → decoder. Names absent here decode to `.other` silently:
    /// they are simply events wbreplay does not interpret.
    static let decoders: [String: Entry] = {
        var t: [String: Entry] = [:]
        func add(_ names: [String], _ d: @escaping Decode) { for n in names { t[n] = Entry(decode: d) } }

        // ext4: buffered write
        add(["ext4_da_write_begin", "ext4_write_begin"]) { r in
            .ext4(.writeBegin(r.ext4Inode(), pos: r.u("pos"), len: r.u("len")))
        }
        add(["ext4_da_write_end", "ext4_write_end", "ext4_journalled_write_end"]) { r in
            .ext4(.writeEnd(r.ext4Inode(), pos: r.u("pos"), len: r.u("len"), copied: r.u("copied")))
        }
        // ext4: writeback
        add(["ext4_writepages"]) { r in .ext4(.writepages(r.ext4Inode(), syncMode: r.i("sync_mode"))) }
        add(["ext4_writepages_result"]) { r in .ext4(.writepagesResult(r.ext4Inode(), ret: r.i("ret"))) }
        add(["ext4_da_write_folios_start"]) { r in
            .ext4(.writeFoliosStart(r.ext4Inode(), startPos: r.u("start_pos"), syncMode: r.i("sync_mode")))
        }
        // ≤ 6.17: the same point of ext4_do_writepages (one io_end per
        // iteration), named after its first page; no event ends it.
        add(["ext4_da_write_pages"]) { r in
            .ext4(.writeFoliosStart(r.ext4Inode(), startPos: r.u("first_page") &* pageSize, syncMode: r.i("sync_mode")))
        }
        add(["ext4_da_write_folios_end"]) { r in
            .ext4(.writeFoliosEnd(r.ext4Inode(), startPos: r.u("start_pos"), ret: r.i("ret")))
        }
        add(["ext4_da_write_pages_extent"]) { r in
            .ext4(.writePagesExtent(r.ext4Inode(), lblk: r.u("lblk"), len: r.u("len"), flags: r.resultFlags("flags")))
        }
        // ext4: block mapping
        add(["ext4_ext_map_blocks_enter", "ext4_ind_map_blocks_enter"]) { r in
            .ext4(.mapBlocksEnter(r.ext4Inode(), lblk: r.u("lblk"), len: r.u("len"), flags: r.mapFlags("flags")))
        }
        add(["ext4_ext_map_blocks_exit", "ext4_ind_map_blocks_exit"]) { r in
            let inode = r.ext4Inode()
            let flags = r.mapFlags("flags")
            let extent = ExtentRange(lblk: r.u("lblk"), pblk: r.u("pblk"), len: r.u("len"))
            return .ext4(.mapBlocksExit(inode, flags: flags, extent: extent, result: r.resultFlags("mflags"), ret: r.i("ret")))
        }
        add(["ext4_ext_handle_unwritten_extents", "ext4_ext_handle_uninitialized_extents"]) { r in
            let inode = r.ext4Inode()
            let flags = r.mapFlags("flags")
            let extent = ExtentRange(lblk: r.u("lblk", "m_lblk"), pblk: r.u("pblk", "m_pblk"), len: r.u("len", "m_len"))
            return .ext4(.handleUnwritten(inode, flags: flags, extent: extent))
        }
        add(["ext4_es_insert_extent"]) { r in
            let inode = r.ext4Inode()
            let extent = ExtentRange(lblk: r.u("lblk"), pblk: r.u("pblk"), len: r.u("len"))
            return .ext4(.extentStatusInsert(inode, extent: extent, status: r.extentStatus("status")))
        }
        add(["ext4_es_lookup_extent_exit"]) { r in
            // The print fmt shows pblk and status only when found (0 and ""
            // otherwise): trace.dat's stored values then mean nothing.
            let inode = r.ext4Inode()
            let found = r.i("found") != 0
            let extent = ExtentRange(lblk: r.u("lblk"), pblk: found ? r.u("pblk") : 0, len: r.u("len"))
            return .ext4(.extentStatusLookup(inode, extent: extent, status: found ? r.extentStatus("status") : [], found: found))
        }
        add(["ext4_journal_start_reserved"]) { r in
            .ext4(.journalStartReserved(dev: r.dev("dev"), blocks: r.i("blocks"),
                                        caller: r.optionalString("ip") ?? r.optionalString("caller")))
        }
        // ext4: fsync, truncate, fallocate family, inode lifetime
        add(["ext4_sync_file_enter"]) { r in .ext4(.syncFileEnter(r.ext4Inode(), datasync: r.i("datasync") != 0)) }
        add(["ext4_sync_file_exit"]) { r in .ext4(.syncFileExit(r.ext4Inode(), ret: r.i("ret"))) }
        add(["ext4_truncate_enter"]) { r in .ext4(.truncateEnter(r.ext4Inode())) }
        add(["ext4_truncate_exit"]) { r in .ext4(.truncateExit(r.ext4Inode())) }
        add(["ext4_fallocate_enter"]) { r in
            .ext4(.fallocateEnter(r.ext4Inode(), offset: r.i("offset", "pos"), len: r.i("len"), mode: r.i("mode")))
        }
        add(["ext4_fallocate_exit"]) { r in .ext4(.fallocateExit(r.ext4Inode(), ret: r.i("ret"))) }
        add(["ext4_punch_hole"]) { r in .ext4(.punchHole(r.ext4Inode(), offset: r.i("offset"), len: r.i("len"))) }
        add(["ext4_zero_range"]) { r in .ext4(.zeroRange(r.ext4Inode(), offset: r.i("offset"), len: r.i("len"))) }
        add(["ext4_collapse_range"]) { r in .ext4(.collapseRange(r.ext4Inode(), offset: r.i("offset"), len: r.i("len"))) }
        add(["ext4_insert_range"]) { r in .ext4(.insertRange(r.ext4Inode(), offset: r.i("offset"), len: r.i("len"))) }
        add(["ext4_ext_remove_space"]) { r in
            .ext4(.removeSpace(r.ext4Inode(), start: r.u("start"), end: r.u("end")))
        }
        // Page → folio renames (5.19/6.x): same meaning, `index` in pages.
        add(["ext4_read_folio", "ext4_readpage"]) { r in .ext4(.readFolio(r.ext4Inode(), index: r.u("index", "folio_index"))) }
        add(["ext4_release_folio", "ext4_releasepage"]) { r in .ext4(.releaseFolio(r.ext4Inode(), index: r.u("index", "folio_index"))) }
        add(["ext4_invalidate_folio", "ext4_invalidatepage"]) { r in
            .ext4(.invalidateFolio(r.ext4Inode(), index: r.u("index", "folio_index"), offset: r.u("offset"), length: r.u("length")))
        }
        add(["ext4_evict_inode"]) { r in .ext4(.evictInode(r.ext4Inode(), nlink: r.i("nlink"))) }
        add(["ext4_free_inode"]) { r in .ext4(.freeInode(r.ext4Inode())) }
        add(["ext4_allocate_inode"]) { r in .ext4(.allocateInode(r.ext4Inode())) }

        // writeback: folio events name the bdi; older kernels had page events.
        add(["writeback_dirty_folio", "writeback_dirty_page"]) { r in
            .writeback(.dirtyFolio(bdi: r.string("name"), ino: r.u("ino"), index: r.u("index", "folio_index")))
        }
        add(["folio_wait_writeback", "wait_on_page_writeback"]) { r in
            .writeback(.waitOnWriteback(bdi: r.string("name"), ino: r.u("ino"), index: r.u("index", "folio_index")))
        }
        add(["sb_mark_inode_writeback"]) { r in .writeback(.markInodeWriteback(r.ext4Inode())) }
        add(["sb_clear_inode_writeback"]) { r in .writeback(.clearInodeWriteback(r.ext4Inode())) }

        // filemap: `index` is in pages; no `order` field before large folios (order 0).
        add(["mm_filemap_add_to_page_cache"]) { r in
            .filemap(.addToPageCache(r.filemapInode(), index: r.u("index"), order: UInt8(truncatingIfNeeded: r.optionalUInt("order") ?? 0)))
        }
        add(["mm_filemap_delete_from_page_cache"]) { r in
            .filemap(.deleteFromPageCache(r.filemapInode(), index: r.u("index"), order: UInt8(truncatingIfNeeded: r.optionalUInt("order") ?? 0)))
        }
        add(["mm_filemap_fault"]) { r in .filemap(.fault(r.filemapInode(), index: r.u("index"))) }
        add(["mm_filemap_get_pages"]) { r in
            .filemap(.getPages(r.filemapInode(), index: r.u("index"), lastIndex: r.u("last_index")))
        }

        // block
        add(["block_bio_queue"]) { r in .block(.bioQueue(r.blockIO())) }
        add(["block_bio_remap"]) { r in
            let moved = r.blockIO()
            let from = SectorRange(dev: r.dev("old_dev"), sector: r.u("old_sector"), count: moved.range.count)
            return .block(.bioRemap(moved, from: from))
        }
        add(["block_rq_insert"]) { r in .block(.requestInsert(r.blockIO())) }
        add(["block_rq_issue"]) { r in .block(.requestIssue(r.blockIO())) }
        add(["block_rq_complete", "block_rq_error"]) { r in
            let x = r.blockIO()
            return .block(.requestComplete(x, error: r.i("error", "errors")))
        }
        add(["block_bio_complete"]) { r in
            let x = r.blockIO()
            return .block(.bioComplete(x, error: r.i("error")))
        }

        // workqueue: `function` is the resolved symbol; an unresolved address is kept as hex.
        add(["workqueue_queue_work"]) { r in
            let k = r.workKey()
            return .workqueue(.queue(k, workqueue: r.workqueueName()))
        }
        // Before 6.12 workqueue_activate_work has no `function`: the key then
        // names the work struct only (function "").
        add(["workqueue_activate_work"]) { r in
            let work = r.u("work")
            return .workqueue(.activate(WorkKey(work: work, function: r.optionalSymbol("function") ?? "")))
        }
        add(["workqueue_execute_start"]) { r in .workqueue(.executeStart(r.workKey())) }
        add(["workqueue_execute_end"]) { r in .workqueue(.executeEnd(r.workKey())) }

        // jbd2
        let phases: [(String, JBD2Event.CommitPhase)] = [
            ("jbd2_start_commit", .start), ("jbd2_commit_locking", .locking), ("jbd2_commit_flushing", .flushing),
            ("jbd2_commit_logging", .logging), ("jbd2_end_commit", .end),
        ]
        for (name, phase) in phases {
            add([name]) { r in .jbd2(.commit(phase, dev: r.dev("dev"), tid: r.u("transaction"))) }
        }
        add(["jbd2_handle_start"]) { r in .jbd2(.handleStart(dev: r.dev("dev"), tid: r.u("tid"), type: r.i("type"))) }

        // sched
        add(["sched_wakeup", "sched_wakeup_new", "sched_waking"]) { r in
            .sched(.wakeup(pid: Int32(truncatingIfNeeded: r.i("pid"))))
        }
        add(["sched_switch"]) { r in
            .sched(.switchTask(prevPid: Int32(truncatingIfNeeded: r.i("prev_pid")),
                               nextPid: Int32(truncatingIfNeeded: r.i("next_pid"))))
        }
        return t
    }()
}

extension FieldReader {
    mutating func blockIO() -> BlockIO {
        BlockIO(range: SectorRange(dev: dev("dev"), sector: u("sector"), count: u("nr_sector")),
                rwbs: RWBS(string("rwbs")))
    }

    mutating func workKey() -> WorkKey { WorkKey(work: u("work"), function: symbol("function")) }

    /// workqueue_queue_work's `workqueue`: the queue's name since 5.15; before,
    /// a pointer (a number in trace.dat, "0x…" in text, where it also matches
    /// the newer print format): no name.
    mutating func workqueueName() -> String? {
        guard let name = optionalString("workqueue") else { return nil }
        let isPointer = name.hasPrefix("0x") && name.count > 2 && name.dropFirst(2).allSatisfy(\.isHexDigit)
        return isPointer ? nil : name
    }

    /// `symbol(name)` when the format has the field, else nil.
    mutating func optionalSymbol(_ name: String) -> String? {
        optionalValue(name) == nil ? nil : symbol(name)
    }

    /// A kernel symbol field (`%ps`): the readers resolve it to a name; an
    /// unresolved address stays as "0x…" so that equal addresses still compare equal.
    mutating func symbol(_ name: String) -> String {
        guard let v = optionalValue(name) else { return string(name) }
        switch v {
        case .string(let s): return s
        default: return "0x" + String(v.uint64 ?? 0, radix: 16)
        }
    }
}
