import TraceIO
import WritebackModel

/// Writes a counterexample as the tracefs `trace` file a 6.18 kernel would
/// have produced for that schedule: the events its tracepoints print for
/// each step (invisible steps — a folio's writeback bit, a store through a
/// writable PTE — print nothing), under the scenario's task names, pids and
/// CPUs, with a wbreplay recording marker saying the clock is global.
///
/// Steps of old profiles that 6.18 no longer has print what their 6.18
/// counterpart prints (`ext4_end_io_work` runs as a workqueue item like
/// `ext4_end_io_rsv_work`; a ≤3.7 flush converts with CONVERT events in the
/// caller).
public struct TraceEmitter {
    public let scenario: Scenario
    public let profile: KernelProfile
    let model: WritebackModel

    /// Boot-relative time of the first event.
    public var startMicroseconds: UInt64 = 512_000_000

    public init(scenario: Scenario, profile: KernelProfile) {
        self.scenario = scenario
        self.profile = profile
        model = WritebackModel(profile: profile)
    }

    /// Where each task is in 6.18's `ext4_do_writepages`, which prints
    /// `ext4_da_write_folios_start` / `_end` only around the iterations that
    /// may map blocks: its first pass (`do_map = 0`) submits the folios whose
    /// blocks are all mapped without them.
    struct WritepagesPasses {
        /// Tasks whose current `ext4_do_writepages` has opened an io_end.
        var pastFirstPass: Set<Int> = []
        /// io_ends opened under `ext4_da_write_folios_start`.
        var spanned: Set<IoEndRef> = []

        mutating func writepagesEntered(_ task: Int) { pastFirstPass.remove(task) }
    }

    /// The trace text, header included, newline-terminated.
    public func text(for c: Counterexample) -> String {
        var out = TraceLines(startMicroseconds: startMicroseconds)
        var state = scenario.initialState(profile)
        var passes = WritepagesPasses()
        marker(state, &out)
        prologue(state, &out)
        for step in c.allSteps + c.completion {
            out.nextStep()
            events(before: state, step: step, &passes, &out)
            state = step.state
        }
        let cpus = max(2, (scenario.actors.map(\.cpu).max() ?? 0) + 1)
        return (TraceLines.header(entries: out.lines.count, cpus: cpus) + out.lines).joined(separator: "\n") + "\n"
    }

    // MARK: Who prints

    func context(_ actor: ActorRef) -> TraceLines.Context {
        if let a = scenario.actor(actor) { return TraceLines.Context(comm: a.comm, pid: a.pid, cpu: a.cpu) }
        switch actor {
        case .task(let id): return TraceLines.Context(comm: "task\(id)", pid: Int32(4000 + id), cpu: 0)
        case .blockDevice: return TraceLines.Context(comm: "ksoftirqd/0", pid: 14, cpu: 0)
        case .worker: return TraceLines.Context(comm: "kworker/u8:3", pid: 2425, cpu: 1)
        case .reclaim: return TraceLines.Context(comm: "kswapd0", pid: 95, cpu: 0)
        }
    }

    /// The task that sets the scene (fallocate, the first write): the first
    /// task that is not a kernel thread (a flusher does not call write(2)).
    var setupContext: TraceLines.Context {
        let tasks = scenario.actors.filter { if case .task = $0.ref { return true } else { return false } }
        let task = tasks.first { !$0.comm.hasPrefix("kworker/") } ?? tasks.first
        return context(task?.ref ?? .task(0))
    }

    // MARK: Before the schedule

    /// The recording marker wbreplay's recorder writes first: the device,
    /// block size, stable pages, and a clock that orders events across CPUs
    /// (the schedule is a total order).
    func marker(_ s: ModelState, _ out: inout TraceLines) {
        let sb = s.superblocks[scenario.device]
        let facts = [
            "preset=explore", "dev=\(scenario.device.major):\(scenario.device.minor)",
            "block_size=\(4096 / (sb?.blocksPerFolio ?? 1))", "stable_writes=\(sb?.stableWrites == true ? 1 : 0)",
            "clock=mono", "scenario=\(scenario.name)", "profile=\(profile.rawValue)",
        ]
        out.add(setupContext, "tracing_mark_write", "wbreplay-recording: " + facts.joined(separator: " "))
    }

    /// What made the initial state, as events: fallocate for unwritten
    /// extents, write(2) for dirty folios, a read for clean cached ones.
    func prologue(_ s: ModelState, _ out: inout TraceLines) {
        let c = setupContext
        for inode in s.inodes.keys.sorted() {
            let state = s.inodes[inode]!
            let unwritten = state.extents.runs.filter { $0.state == .unwritten }.map(\.range)
            if let lo = unwritten.map(\.lblk).min(), let hi = unwritten.map(\.end).max() {
                out.add(c, "ext4_fallocate_enter", FieldText.ext4(inode.dev, inode.ino) + " offset \(lo * 4096) len \((hi - lo) * 4096) mode ")
                for r in unwritten {
                    out.add(c, "ext4_ext_map_blocks_exit", FieldText.ext4(inode.dev, inode.ino)
                            + " flags CREATE|UNWRIT|NO_NORMALIZE lblk \(r.lblk) pblk \(pblk(r.lblk)) len \(r.len) mflags NMU ret \(r.len)")
                    out.add(c, "ext4_es_insert_extent", FieldText.ext4(inode.dev, inode.ino) + " es [\(r.lblk)/\(r.len)) mapped \(pblk(r.lblk)) status U")
                }
                out.add(c, "ext4_fallocate_exit", FieldText.ext4(inode.dev, inode.ino) + " pos \(lo * 4096) blocks \(hi - lo) ret 0")
            }
            for index in state.folios.keys.sorted() {
                let f = FolioRef(inode: inode, index: index)
                out.nextStep()
                if state.folios[index]!.dirty {
                    out.add(c, "ext4_da_write_begin", FieldText.ext4(inode.dev, inode.ino) + " pos \(index * 4096) len 4096")
                    addToPageCache(f, c, &out)
                    out.add(c, "ext4_da_write_end", FieldText.ext4(inode.dev, inode.ino) + " pos \(index * 4096) len 4096 copied 4096")
                    dirtyFolio(f, c, &out)
                } else {
                    addToPageCache(f, c, &out)
                }
            }
        }
    }

    // MARK: Shared event text

    func pblk(_ lblk: UInt64) -> UInt64 { scenario.dataStartBlock + lblk }

    /// Sector on the whole disk of a block (the loop device has no partition).
    func sector(_ lblk: UInt64) -> UInt64 { pblk(lblk) * 8 }

    func addToPageCache(_ f: FolioRef, _ c: TraceLines.Context, _ out: inout TraceLines) {
        out.add(c, "mm_filemap_add_to_page_cache", FieldText.filemap(f.inode.dev, f.inode.ino)
                + " pfn=0x\(FieldText.hex(0x12f2f6 + f.index)) ofs=\(f.index * 4096) order=0")
    }

    func deleteFromPageCache(_ f: FolioRef, _ c: TraceLines.Context, _ out: inout TraceLines) {
        var d = c
        d.flags = "d..2."
        out.add(d, "mm_filemap_delete_from_page_cache", FieldText.filemap(f.inode.dev, f.inode.ino)
                + " pfn=0x\(FieldText.hex(0x12f2f6 + f.index)) ofs=\(f.index * 4096) order=0")
    }

    func dirtyFolio(_ f: FolioRef, _ c: TraceLines.Context, _ out: inout TraceLines) {
        var d = c
        d.flags = "d..1."
        out.add(d, "writeback_dirty_folio", FieldText.bdi(f.inode.dev) + " ino=\(f.inode.ino) index=\(f.index)")
    }

    /// The conversion work item: `io_end->work` (≤3.7) or the inode's
    /// `i_rsv_conversion_work` (≥3.11), a hashed pointer stable per object.
    func work(_ inode: InodeRef, io: Int?) -> (pointer: String, function: String, workqueue: String) {
        let base: UInt64 = 0x7949_ad6d &+ (inode.ino << 12) &+ UInt64(inode.generation) << 8
        if model.traits.workPerInode {
            return (FieldText.pointer(base), "ext4_end_io_rsv_work", "ext4-rsv-conversion")
        }
        return (FieldText.pointer(base &+ 0x140 &* UInt64(io ?? 0) &+ 0x40), "ext4_end_io_work", "ext4-dio-unwritten")
    }

    /// `ext4_convert_unwritten_extents` in whoever converts: the reserved
    /// handle, then per range map_blocks with CONVERT and the es-tree update.
    func conversionEvents(_ inode: InodeRef, _ ranges: [BlockRange], _ c: TraceLines.Context, _ out: inout TraceLines) {
        guard !ranges.isEmpty else { return }
        out.add(c, "ext4_journal_start_reserved", "dev \(inode.dev.major),\(inode.dev.minor) blocks, 18 caller ext4_convert_unwritten_io_end_vec+0x2d/0x100")
        let id = FieldText.ext4(inode.dev, inode.ino)
        for r in ranges {
            out.add(c, "ext4_ext_map_blocks_enter", id + " lblk \(r.lblk) len \(r.len) flags CREATE|UNWRIT|CONVERT|IO_SUBMIT|EX_NOCACHE")
            out.add(c, "ext4_ext_handle_unwritten_extents", id + " m_lblk \(r.lblk) m_pblk \(pblk(r.lblk)) m_len \(r.len) flags CREATE|UNWRIT|CONVERT|METADATA_NOFAIL|IO_SUBMIT|EX_NOCACHE allocated \(r.len) newblock \(pblk(r.lblk))")
            out.add(c, "ext4_ext_map_blocks_exit", id + " flags CREATE|UNWRIT|CONVERT|IO_SUBMIT|EX_NOCACHE lblk \(r.lblk) pblk \(pblk(r.lblk)) len \(r.len) mflags M ret \(r.len)")
            out.add(c, "ext4_es_insert_extent", id + " es [\(r.lblk)/\(r.len)) mapped \(pblk(r.lblk)) status W")
        }
    }

    /// Blocks a step turned from unwritten to written.
    func converted(_ inode: InodeRef, _ before: ModelState, _ after: ModelState) -> [BlockRange] {
        guard let old = before.inodes[inode], let new = after.inodes[inode] else { return [] }
        return old.extents.runs.filter { $0.state == .unwritten }.flatMap { new.extents.ranges(in: $0.range, state: .written) }
    }
}
