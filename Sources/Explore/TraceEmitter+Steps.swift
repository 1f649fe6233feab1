import TraceIO
import WritebackModel

// The events 6.18 prints for each model step (fs/ext4/inode.c, page-io.c,
// extents.c, fsync.c tracepoints; block, workqueue, filemap, writeback and
// syscall events), then what any step may cause: a conversion work queued,
// the inode's last writeback ended.

extension TraceEmitter {
    func events(before s: ModelState, step: Step, _ passes: inout WritepagesPasses, _ out: inout TraceLines) {
        let t = step.transition
        let a = step.state
        var c = context(t.actor)
        if case .ext4ReadFolio(.reclaim, _) = t, let r = scenario.rereader {
            c = TraceLines.Context(comm: r.comm, pid: r.pid, cpu: r.cpu)
        }
        switch t {
        case .ext4NewInode, .unlockNewInode, .ext4IoendWait, .userStore, .ext4UnwrittenWait, .ext4Setattr,
             .ext4AddCompleteIo:
            break
        case .ext4EvictInode(_, let i):
            out.add(c, "ext4_evict_inode", FieldText.ext4(i.dev, i.ino) + " nlink 0")
        case .truncateInodePagesFinal(let id):
            if case .evict(let i, _)? = s.tasks[id]?.operation { dropped(i, s, a, c, &out) }
        case .ext4FreeInode(let id):
            if case .evict(let i, _)? = s.tasks[id]?.operation {
                out.add(c, "ext4_free_inode", FieldText.ext4(i.dev, i.ino) + " mode 0100644 uid 0 gid 0 blocks 0")
            }
        case .ext4DaWriteBegin(_, let f):
            out.add(c, "ext4_da_write_begin", FieldText.ext4(f.inode.dev, f.inode.ino) + " pos \(f.index * 4096) len 4096")
            if s.folio(f) == nil { addToPageCache(f, c, &out) }
        case .ext4DaWriteEnd(let id):
            guard case .bufferedWrite(let f)? = s.tasks[id]?.operation else { break }
            out.add(c, "ext4_da_write_end", FieldText.ext4(f.inode.dev, f.inode.ino) + " pos \(f.index * 4096) len 4096 copied 4096")
            if s.folio(f)?.dirty != true { dirtyFolio(f, c, &out) }
        case .ext4PageMkwrite(_, let f):
            if s.folio(f)?.dirty != true { dirtyFolio(f, c, &out) }
        case .filemapFault(_, let f):
            if s.folio(f) == nil { addToPageCache(f, c, &out) }
            out.add(c, "mm_filemap_fault", "dev=\(f.inode.dev.major):\(f.inode.dev.minor) ino=\(FieldText.hex(f.inode.ino)) ofs=\(f.index * 4096)")
        case .zapPteRange(_, let f):
            if let old = s.folio(f), old.pteDirty, !old.dirty { dirtyFolio(f, c, &out) }
        case .ext4Fallocate(_, let i, let r):
            out.add(c, "ext4_fallocate_enter", FieldText.ext4(i.dev, i.ino) + " offset \(r.lblk * 4096) len \(r.len * 4096) mode ")
            out.add(c, "ext4_fallocate_exit", FieldText.ext4(i.dev, i.ino) + " pos \(r.lblk * 4096) blocks \(r.len) ret 0")
        case .ext4Writepages(let id, let i, let syncAll):
            passes.writepagesEntered(id)
            writepages(i, syncAll: syncAll, c, &out)
        case .mpageSubmitFolio(let id, let f):
            guard let cursor = s.tasks[id]?.writeback, cursor.ioEnd == nil else { break }
            if case .device = cursor.scope, !s.inodes[f.inode]!.ioEnds.values.contains(where: { _ in true }) {
                passes.writepagesEntered(id)
                writepages(f.inode, syncAll: true, c, &out)
            }
            // The first pass takes folios whose blocks are all mapped; a folio
            // that needs mapping, or any later io_end, is a mapping iteration.
            let needsMapping = s.inodes[f.inode]!.extents.states(in: s.blocks(of: f)).contains { $0.state != .written }
            if needsMapping || passes.pastFirstPass.contains(id) {
                if let opened = a.tasks[id]?.writeback?.ioEnd { passes.spanned.insert(opened) }
                out.add(c, "ext4_da_write_folios_start", FieldText.ext4(f.inode.dev, f.inode.ino)
                        + " start_pos 0x\(FieldText.hex(f.index * 4096)) next_pos 0x\(FieldText.hex(f.index * 4096)) nr_to_write \(nrToWrite(cursor.syncAll)) sync_mode \(cursor.syncAll ? 1 : 0)")
            }
            passes.pastFirstPass.insert(id)
        case .ext4BioWriteFolio(_, let f):
            mapForWriteback(f, s, c, &out)
            // __folio_start_writeback: the inode's first folio under writeback tags it.
            if s.inodes[f.inode]?.folios.values.contains(where: \.writeback) == false {
                var d = c
                d.flags = "d..2."
                out.add(d, "sb_mark_inode_writeback", FieldText.ext4(f.inode.dev, f.inode.ino)
                        + " dirtied 4295186682 state I_DIRTY_PAGES mode 0100644")
            }
        case .ext4IoSubmit(let id, let io):
            guard let state = a.ioEnd(io), let bio = state.bios.last else { break }
            let sync = s.tasks[id]?.writeback?.syncAll == true
            out.add(c, "block_bio_queue", FieldText.block(io.inode.dev) + " \(sync ? "WS" : "W") \(sector(bio.range.lblk)) + \(bio.range.len * 8) [\(c.comm)]")
            // The span ends after the submitter's put (6.18 inode.c:2951-2963),
            // where the io_end is refcounted; before 3.11 after the submit.
            if !model.traits.refcountedIoEnd { foliosEnd(io, state, syncAll: sync, &passes, c, &out) }
        case .ext4PutIoEnd(let id, let io):
            conversionEvents(io.inode, converted(io.inode, s, a), c, &out)
            if let state = s.ioEnd(io) { foliosEnd(io, state, syncAll: s.tasks[id]?.writeback?.syncAll == true, &passes, c, &out) }
        case .ext4WritepagesResult(let id):
            guard case .writepages(let i)? = s.tasks[id]?.operation else { break }
            writepagesResult(i, syncAll: s.tasks[id]?.writeback?.syncAll == true, c, &out)
        case .blkMqStartRequest(let b):
            guard let bio = s.bio(b) else { break }
            out.add(c, "block_rq_issue", FieldText.block(b.ioEnd.inode.dev) + " W \(bio.range.len * 4096) () \(sector(bio.range.lblk)) + \(bio.range.len * 8) be,0,4 [\(c.comm)]")
        case .ext4EndBio(let b, let error):
            guard let bio = s.bio(b) else { break }
            // Completion runs in softirq: what it causes prints with `s` too.
            c.flags = "..s.."
            out.add(c, "block_rq_complete", FieldText.block(b.ioEnd.inode.dev) + " W () \(sector(bio.range.lblk)) + \(bio.range.len * 8) be,0,4 [\(error ? -5 : 0)]")
        case .ext4EndIoWork(let io):
            let w = work(io.inode, io: io.serial)
            out.add(c, "workqueue_execute_start", "work struct \(w.pointer): function \(w.function)")
            if a.superblocks[io.inode.dev]?.worker == nil {
                // 3.6: converted and freed in one go.
                conversionEvents(io.inode, converted(io.inode, s, a), c, &out)
                out.add(c, "workqueue_execute_end", "work struct \(w.pointer): function \(w.function)")
            }
        case .ext4EndIoRsvWork(let i):
            let w = work(i, io: nil)
            out.add(c, "workqueue_execute_start", "work struct \(w.pointer): function \(w.function)")
            if a.superblocks[i.dev]?.worker == nil {
                out.add(c, "workqueue_execute_end", "work struct \(w.pointer): function \(w.function)")
            }
        case .ext4ConvertUnwrittenIoEndVec(let io):
            conversionEvents(io.inode, converted(io.inode, s, a), c, &out)
        case .ext4ReleaseIoEnd(let io):
            if a.superblocks[io.inode.dev]?.worker == nil {
                writebackCleared(s, a, c, &out)
                let w = work(io.inode, io: nil)
                out.add(c, "workqueue_execute_end", "work struct \(w.pointer): function \(w.function)")
                return
            }
        case .ext4FreeIoEnds(let i):
            let run = s.superblocks[i.dev]?.worker
            let w = work(i, io: run?.workIoEnd?.serial)
            out.add(c, "workqueue_execute_end", "work struct \(w.pointer): function \(w.function)")
        case .ext4SyncFile(let id, let i, let datasync):
            out.add(c, datasync ? "sys_fdatasync(fd: 3)" : "sys_fsync(fd: 3)", "", raw: true)
            out.add(c, "ext4_sync_file_enter", FieldText.ext4(i.dev, i.ino) + " parent 2 datasync \(datasync ? 1 : 0) ")
            passes.writepagesEntered(id)
            if s.sortedDirtyFolios(of: i).isEmpty == false { writepages(i, syncAll: true, c, &out) }
        case .filemapFdatawaitRange(let id):
            if case .syncFile(let p)? = s.tasks[id]?.operation, !p.covered.isEmpty {
                writepagesResult(p.inode, syncAll: true, c, &out)
            }
        case .ext4FlushCompletedIO(let id):
            if let i = s.footprint(of: t).inodes.first { conversionEvents(i, converted(i, s, a), c, &out) }
            _ = id
        case .ext4SyncFileReturn(let id):
            guard case .syncFile(let p)? = s.tasks[id]?.operation else { break }
            out.add(c, "ext4_sync_file_exit", FieldText.ext4(p.inode.dev, p.inode.ino) + " ret 0")
            out.add(c, p.datasync ? "sys_fdatasync -> 0x0" : "sys_fsync -> 0x0", "", raw: true)
        case .ext4PunchHole(_, let i, let r, _):
            out.add(c, "ext4_punch_hole", FieldText.ext4(i.dev, i.ino) + " offset \(r.lblk * 4096) len \(r.len * 4096) mode ")
        case .truncatePagecache(let id):
            if case .removeBlocks(let p)? = s.tasks[id]?.operation { dropped(p.inode, s, a, c, &out) }
        case .ext4ExtRemoveSpace(let id):
            guard case .removeBlocks(let p)? = s.tasks[id]?.operation else { break }
            let id4 = FieldText.ext4(p.inode.dev, p.inode.ino)
            if p.kind == .truncate {
                out.add(c, "ext4_truncate_enter", id4 + " blocks \(p.range.end * 8)")
                out.add(c, "ext4_ext_remove_space", id4 + " since \(p.range.lblk) end 4294967294 depth 0")
                out.add(c, "ext4_truncate_exit", id4 + " blocks 0")
            } else {
                out.add(c, "ext4_ext_remove_space", id4 + " since \(p.range.lblk) end \(p.range.end - 1) depth 0")
            }
        case .freezeSuper(_, let d):
            out.add(c, "sys_ioctl(fd: 3, cmd: 0xc0045877, arg: 0)", "", raw: true)
            out.add(c, "ext4_sync_fs", "dev \(d.major),\(d.minor) wait 0")
        case .ext4Freeze(let id):
            if case .freeze(let d)? = s.tasks[id]?.operation { out.add(c, "ext4_sync_fs", "dev \(d.major),\(d.minor) wait 1") }
            out.add(c, "sys_ioctl -> 0x0", "", raw: true)
        case .thawSuper:
            out.add(c, "sys_ioctl(fd: 3, cmd: 0xc0045878, arg: 0)", "", raw: true)
        case .ext4Unfreeze:
            out.add(c, "sys_ioctl -> 0x0", "", raw: true)
        case .shrinkFolioList(let f):
            deleteFromPageCache(f, c, &out)
        case .ext4ReadFolio(_, let f):
            addToPageCache(f, c, &out)
        }
        workQueued(s, a, t.actor == .blockDevice ? "d.s2." : "d..2.", c, &out)
        writebackCleared(s, a, c, &out)
    }

    func nrToWrite(_ syncAll: Bool) -> UInt64 { syncAll ? 9_223_372_036_854_775_807 : 13312 }

    func writepages(_ i: InodeRef, syncAll: Bool, _ c: TraceLines.Context, _ out: inout TraceLines) {
        out.add(c, "ext4_writepages", FieldText.ext4(i.dev, i.ino)
                + " nr_to_write \(nrToWrite(syncAll)) pages_skipped 0 range_start 0 range_end \(syncAll ? "9223372036854775807" : "0") sync_mode \(syncAll ? 1 : 0) for_kupdate 0 range_cyclic \(syncAll ? 0 : 1) writeback_index 0")
    }

    func writepagesResult(_ i: InodeRef, syncAll: Bool, _ c: TraceLines.Context, _ out: inout TraceLines) {
        out.add(c, "ext4_writepages_result", FieldText.ext4(i.dev, i.ino) + " ret 0 pages_written 1 pages_skipped 0 sync_mode \(syncAll ? 1 : 0) writeback_index 0")
    }

    /// `mpage_map_one_extent` for the folio's blocks: a delayed block is
    /// allocated (unwritten under dioread_nolock), a fallocated one is
    /// written through PRE_IO; blocks already written need no mapping.
    /// `ext4_da_write_folios_end` of the mapping iteration that built `io`, if one was opened for it.
    func foliosEnd(_ io: IoEndRef, _ state: IoEndState, syncAll: Bool, _ passes: inout WritepagesPasses,
                   _ c: TraceLines.Context, _ out: inout TraceLines) {
        guard passes.spanned.remove(io) != nil else { return }
        let end = (state.ranges.map(\.end).max() ?? 0) * 4096
        out.add(c, "ext4_da_write_folios_end", FieldText.ext4(io.inode.dev, io.inode.ino)
                + " start_pos 0x\(FieldText.hex(end)) next_pos 0x\(FieldText.hex(end)) nr_to_write \(nrToWrite(syncAll) - 1) ret 0")
    }

    func mapForWriteback(_ f: FolioRef, _ s: ModelState, _ c: TraceLines.Context, _ out: inout TraceLines) {
        guard let inode = s.inodes[f.inode], let sb = s.superblocks[f.inode.dev] else { return }
        let id = FieldText.ext4(f.inode.dev, f.inode.ino)
        for run in inode.extents.states(in: s.blocks(of: f)) where run.state != .written {
            let r = run.range
            let delayed = run.state == .hole
            let unwritten = !delayed || model.dioreadNolock(sb)
            let flags = delayed
                ? (model.dioreadNolock(sb) ? "CREATE|UNWRIT|DELALLOC|PRE_IO|METADATA_NOFAIL|IO_SUBMIT|EX_NOCACHE" : "CREATE|DELALLOC|METADATA_NOFAIL|IO_SUBMIT|EX_NOCACHE")
                : "CREATE|UNWRIT|PRE_IO|METADATA_NOFAIL|IO_SUBMIT|EX_NOCACHE"
            out.add(c, "ext4_da_write_pages_extent", id + " lblk \(r.lblk) len \(r.len) flags \(delayed ? "0x100" : "U")")
            out.add(c, "ext4_ext_map_blocks_enter", id + " lblk \(r.lblk) len \(r.len) flags \(flags)")
            if !delayed {
                out.add(c, "ext4_ext_handle_unwritten_extents", id + " m_lblk \(r.lblk) m_pblk \(pblk(r.lblk)) m_len \(r.len) flags \(flags) allocated \(r.len) newblock \(pblk(r.lblk))")
            }
            out.add(c, "ext4_ext_map_blocks_exit", id + " flags \(flags) lblk \(r.lblk) pblk \(pblk(r.lblk)) len \(r.len) mflags \(unwritten ? "NMU" : "NM") ret \(r.len)")
            out.add(c, "ext4_es_insert_extent", id + " es [\(r.lblk)/\(r.len)) mapped \(pblk(r.lblk)) status \(unwritten ? "U" : "W")")
        }
    }

    /// Folios of `inode` that left the page cache in this step.
    func dropped(_ inode: InodeRef, _ s: ModelState, _ a: ModelState, _ c: TraceLines.Context, _ out: inout TraceLines) {
        for index in (s.inodes[inode]?.folios.keys.sorted() ?? []) where a.inodes[inode]?.folios[index] == nil {
            deleteFromPageCache(FolioRef(inode: inode, index: index), c, &out)
        }
    }

    /// `queue_work` of a conversion work item the step queued
    /// (`ext4_add_complete_io`, from the irq or a submitter's last put).
    func workQueued(_ s: ModelState, _ a: ModelState, _ flags: String, _ c: TraceLines.Context, _ out: inout TraceLines) {
        var q = c
        q.flags = flags
        for (ref, inode) in a.inodes.sorted(by: { $0.key < $1.key }) {
            let old = s.inodes[ref]
            var queued: [Int?] = []
            if model.traits.workPerInode {
                if inode.rsvWorkQueued, old?.rsvWorkQueued != true { queued.append(nil) }
            } else {
                for serial in inode.ioEnds.keys.sorted() where inode.ioEnds[serial]!.workQueued
                    && old?.ioEnds[serial]?.workQueued != true {
                    queued.append(serial)
                }
            }
            for serial in queued {
                let w = work(ref, io: serial)
                out.add(q, "workqueue_queue_work", "work struct=\(w.pointer) function=\(w.function) workqueue=\(w.workqueue) req_cpu=256 cpu=-1")
                out.add(q, "workqueue_activate_work", "work struct \(w.pointer) function=\(w.function) ")
            }
        }
    }

    /// `sb_clear_inode_writeback`: the inode's last folio under writeback ended.
    func writebackCleared(_ s: ModelState, _ a: ModelState, _ c: TraceLines.Context, _ out: inout TraceLines) {
        var d = c
        d.flags = c.flags == "..s.." ? "d.s2." : "d..2."
        for (ref, old) in s.inodes.sorted(by: { $0.key < $1.key }) where old.folios.values.contains(where: \.writeback) {
            guard let new = a.inodes[ref], !new.folios.values.contains(where: \.writeback) else { continue }
            out.add(d, "sb_clear_inode_writeback", FieldText.ext4(ref.dev, ref.ino)
                    + " dirtied 4295186682 state I_DIRTY_PAGES mode 0100644")
        }
    }
}

extension ModelState {
    func sortedDirtyFolios(of inode: InodeRef) -> [UInt64] {
        (inodes[inode]?.folios ?? [:]).filter { $0.value.dirty }.keys.sorted()
    }
}
