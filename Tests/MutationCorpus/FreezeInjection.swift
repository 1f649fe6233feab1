import KernelEvents
import TraceIO

/// write-while-frozen (seed 001).
///
/// Mirrors 2.6.39's `ext4_page_mkwrite` (fs/ext4/inode.c), which did not
/// block on a frozen file system (seed 001: Okajima's report, Kara's
/// `sb_start_pagefault` fix in 3.6), and the `vfs_check_frozen` race of
/// write() before 3.6 (a writer that passed the check dirtied pages after
/// the freeze completed): a folio of the frozen file system is dirtied.
///
/// A recorded dirtying is taken as it is — a `writeback_dirty_folio` by a
/// user task that goes on running, with its write syscall or fault around it — at
/// a moment when the file system is quiet (no writeback in flight, nothing
/// else dirtied, no journal handle, no write bio) from before the freeze to
/// after the thaw. `FIFREEZE` (`sys_enter_ioctl` cmd 0xc0045877,
/// `ext4_sync_fs` wait 0 and 1, `sys_exit_ioctl` 0) returns before the
/// write and `FITHAW` (cmd 0xc0045878) comes after it, from `fsfreeze`
/// processes; the freeze's journal flush and the thaw's superblock write
/// are left out. The freeze returns (a) 1.2 ms before the dirtying, (b) 20 µs
/// before it on the other CPU, (c) 20 µs before it on the other CPU, issued
/// by the writing task itself (`ioctl(FIFREEZE)`, then the write: program order).
///
/// Twin: the same freeze, thawed before the write begins.
enum WriteWhileFrozen {
    /// A recorded dirtying and the events of the same write around it.
    struct Dirtying {
        var dirty: Int
        var inode: InodeKey
        var folio: UInt64
        var writer: Int32
        /// The writer's events of this write: from its syscall entry (or fault) to its exit.
        var group: [Int]
    }

    static func make(_ id: CaseID, index: TraceIndex, factory: EventFactory) throws -> MutationCase {
        var reasons: [String] = []
        for d in dirtyings(index) {
            do {
                return try make(id, d, index: index, factory: factory)
            } catch let u as Unhostable {
                reasons.append("dirtying at event \(d.dirty): \(u)")
            }
            if reasons.count >= 400 { break }
        }
        throw Unhostable(reasons.isEmpty ? "no user task dirties a folio of a regular file" : CaseMaker.summary(reasons))
    }

    static func make(_ id: CaseID, _ d: Dirtying, index: TraceIndex, factory: EventFactory) throws -> MutationCase {
        let tD = index.timestamp(d.dirty)
        let tStart = index.timestamp(d.group.first!)
        let tEnd = index.timestamp(d.group.last!)
        let dCPU = index.events[d.dirty].cpu
        guard let other = index.otherCPU(than: dCPU) else { throw Unhostable("the trace shows one CPU only") }
        let far = id.ordering == .farApart
        let exitAt = far ? tD - min(tD, 1_200_000) : tD - min(tD, 20_000)
        guard exitAt < tStart else { throw Unhostable("the write began more than 20 µs before it dirtied the folio") }
        var bug = Scenario(index, factory: factory, device: d.inode.dev)
        var twin = Scenario(index, factory: factory, device: d.inode.dev)
        let step = bug.step
        let freezerCPU = other
        let freezer = id.ordering == .happensBefore
            ? Actor(pid: d.writer, comm: index.comms[d.writer] ?? "?", cpu: freezerCPU)
            : bug.newTask("fsfreeze", cpu: freezerCPU)
        let thawer = bug.newTask("fsfreeze", cpu: dCPU)
        _ = twin.newTask("fsfreeze", cpu: freezerCPU)
        _ = twin.newTask("fsfreeze", cpu: dCPU)
        let freezeStart = exitAt - 4 * step
        let thawStart = tEnd + 2 * step
        if let why = busyFileSystem(index, from: freezeStart, to: thawStart + 2 * step, except: Set(d.group))
            ?? dirtyData(index, at: freezeStart) {
            throw Unhostable(why)
        }
        if id.ordering == .happensBefore {
            guard bug.schedule.isFree(task: d.writer, from: freezeStart, to: exitAt) else {
                throw Unhostable("the writer is busy when it would freeze the file system")
            }
            // …and not inside a syscall of its own then.
            for p in (index.byPid[d.writer] ?? []).reversed() where index.timestamp(p) < freezeStart {
                let name = index.events[p].name
                if name.hasPrefix("sys_exit_") { break }
                if name.hasPrefix("sys_enter_") {
                    throw Unhostable("the writer is inside a syscall when it would freeze the file system")
                }
            }
        }
        guard bug.schedule.isQuiet(cpu: freezerCPU, from: freezeStart, to: exitAt, for: freezer.pid),
              bug.schedule.isQuiet(cpu: dCPU, from: thawStart, to: thawStart + step, for: thawer.pid) else {
            throw Unhostable("the CPUs are busy where the freeze or the thaw would run")
        }
        let freeze = try [
            bug.make("sys_enter_ioctl", at: freezeStart, by: freezer, [.int("fd", 3), .uint("cmd", UInt64(IoctlCommand.fifreeze)), .int("arg", 0)],
                     where: { IoctlCommand(raw: $0.fields.uint("cmd") ?? 0) == .freeze }),
            bug.make("ext4_sync_fs", at: freezeStart + step, by: freezer, [.int("wait", 0)]),
            bug.make("ext4_sync_fs", at: freezeStart + 2 * step, by: freezer, [.int("wait", 1)]),
            bug.make("sys_exit_ioctl", at: exitAt, by: freezer, [.int("ret", 0)]),
        ]
        func thaw(_ s: Scenario, at t: UInt64, by a: Actor) throws -> [TraceEvent] {
            try [
                s.make("sys_enter_ioctl", at: t, by: a, [.int("fd", 3), .uint("cmd", UInt64(IoctlCommand.fithaw)), .int("arg", 0)],
                       where: { IoctlCommand(raw: $0.fields.uint("cmd") ?? 0) == .thaw }),
                s.make("sys_exit_ioctl", at: t + step, by: a, [.int("ret", 0)]),
            ]
        }
        bug.place(freeze, tags: [3: Scenario.firstDeciding])
        bug.place(try thaw(bug, at: thawStart, by: thawer))
        bug.trace.tag(d.dirty, Scenario.secondDeciding)
        for p in d.group where p != d.dirty { bug.trace.tag(p, "second.\(p)") }

        // Twin: thawed before the write begins.
        twin.place(freeze)
        let twinThaw = exitAt + step
        guard twinThaw + step < tStart,
              twin.schedule.isQuiet(cpu: freezerCPU, from: twinThaw, to: twinThaw + step, for: thawer.pid) else {
            throw Unhostable("no room to thaw between the freeze and the write")
        }
        twin.place(try thaw(twin, at: twinThaw, by: thawer.on(freezerCPU)))
        let perPage = max(1, 4096 / (index.geometries[d.inode.dev]?.blockSize ?? 4096))
        let order = index.cachedFolios(d.inode, before: tD + 1).first { $0.index == d.folio }?.order ?? 0
        let blocks = (d.folio * perPage)..<((d.folio + (1 << UInt64(order))) * perPage)
        let how = id.ordering == .happensBefore ? "the writer itself froze it (ioctl FIFREEZE) on CPU \(freezerCPU), 20 µs before"
            : far ? "FIFREEZE returned 1.2 ms before" : "FIFREEZE returned on CPU \(freezerCPU) 20 µs before, nothing ordering the two"
        return try CaseMaker.assemble(
            id, bug: bug, twin: twin, site: nil, rule: .writeWhileFrozen, dev: d.inode.dev, ino: d.inode.ino,
            generation: index.generation(d.inode, at: d.dirty), blocks: blocks,
            story: "\(index.comms[d.writer] ?? "?")-\(d.writer) dirtied folio \(d.folio) of inode \(d.inode.ino) (event \(d.dirty) of the source) on a frozen file system: \(how); FITHAW came after the write. Mirrors 2.6.39 ext4_page_mkwrite / pre-3.6 vfs_check_frozen (seed 001).",
            twinStory: "the same freeze, thawed before the write began", windowStart: freezeStart)
    }

    /// Recorded dirtyings by user tasks that go on running, latest first
    /// (the end of a recording is usually quiet).
    static func dirtyings(_ index: TraceIndex) -> [Dirtying] {
        var out: [Dirtying] = []
        for (i, k) in index.typed.enumerated() {
            guard case .writeback(.dirtyFolio(let bdi, let ino, let folio)) = k, let dev = DeviceNumber(bdi),
                  ino != dev.kernelEncoded, ino < 1 << 20 else { continue }
            let e = index.events[i]
            guard !e.comm.hasPrefix("kworker"), !e.comm.hasPrefix("jbd2"), e.pid != 0,
                  let mine = index.byPid[e.pid], let at = mine.firstIndex(of: i), at + 1 < mine.count else { continue }
            // The write around it: back to the syscall entry with no exit in between (or a fault), forward to its exit.
            var start = at
            while start > 0, e.timestamp - index.timestamp(mine[start - 1]) < 50_000 {
                let name = index.events[mine[start - 1]].name
                if name.hasPrefix("sys_exit_") || name == "writeback_dirty_folio" { break }
                start -= 1
                if name.hasPrefix("sys_enter_") || name == "mm_filemap_fault" { break }
            }
            var end = at
            while end + 1 < mine.count, index.timestamp(mine[end + 1]) - e.timestamp < 50_000 {
                let name = index.events[mine[end + 1]].name
                if name.hasPrefix("sys_enter_") || name == "mm_filemap_fault" || name == "writeback_dirty_folio" { break }
                end += 1
                if name.hasPrefix("sys_exit_") { break }
            }
            guard end + 1 < mine.count else { continue }
            // The seed's bug is a buffered write or a write fault: a folio
            // dirtied inside another syscall (ftruncate zeroing the tail of
            // its last block, fallocate) went through a path that blocked on
            // a frozen file system before it dirtied anything (its journal
            // handle, or sb_start_write).
            // The syscall the dirtying is inside, however long ago it began.
            let enclosingAt = mine[...at].reversed()
                .first { index.events[$0].name.hasPrefix("sys_enter_") || index.events[$0].name.hasPrefix("sys_exit_") }
            let enclosing = enclosingAt.map { index.events[$0].name }
            if let name = enclosing, name.hasPrefix("sys_enter_"), !name.contains("write") { continue }
            // The write began at its syscall entry, however long before the
            // dirtying; where the recording does not trace the write syscall,
            // at the latest at the task's first `write_begin` since it last
            // left a recorded syscall (a write of several folios dirties them
            // in turn). A freeze must not land inside it.
            if index.events[mine[start]].name != "mm_filemap_fault" {
                if let entry = enclosingAt, index.events[entry].name.hasPrefix("sys_enter_") {
                    start = min(start, mine.firstIndex(of: entry)!)
                } else if let begin = mine[...at].reversed()
                    .prefix(while: { !index.events[$0].name.hasPrefix("sys_exit_") })
                    .last(where: { if case .ext4(.writeBegin) = index.typed[$0] { true } else { false } }) {
                    start = min(start, mine.firstIndex(of: begin)!)
                }
            }
            out.append(Dirtying(dirty: i, inode: InodeKey(dev: dev, ino: ino), folio: folio, writer: e.pid,
                                group: Array(mine[start...end])))
        }
        return out.reversed()
    }

    /// A regular file with folios dirtied and not written back by `t`: the
    /// freeze would have to write them (sync_filesystem), which the case
    /// does not show.
    static func dirtyData(_ index: TraceIndex, at t: UInt64) -> String? {
        var lastDirty: [UInt64: Int] = [:]
        var lastWritten: [UInt64: UInt64] = [:]
        for i in 0..<index.count where index.timestamp(i) < t {
            switch index.typed[i] {
            case .writeback(.dirtyFolio(let bdi, let ino, _)):
                if let dev = DeviceNumber(bdi), ino != dev.kernelEncoded { lastDirty[ino] = i }
            case .ext4(.writepagesResult(let ref, _)):
                if (index.events[i].fields.int("pages_written") ?? 0) > 0 { lastWritten[ref.ino] = index.timestamp(i) }
            default: break
            }
        }
        for (ino, d) in lastDirty where (lastWritten[ino] ?? 0) < index.timestamp(d) {
            return "inode \(ino) has folios dirtied at event \(d) and not written back when the freeze would begin"
        }
        return nil
    }

    /// Why the file system is not quiet in [from, to]: writeback in flight,
    /// other dirtying, a journal handle or a write bio.
    static func busyFileSystem(_ index: TraceIndex, from: UInt64, to: UInt64, except: Set<Int>) -> String? {
        for (inode, bios) in index.writeback where inode.ino < 1 << 20 {
            for b in bios where index.timestamp(b.queue) < to && (b.completion.map { index.timestamp($0) > from } ?? true) {
                return "writeback of \(inode) is in flight (bio at event \(b.queue))"
            }
        }
        var i = index.firstIndex(atOrAfter: from)
        while i < index.count, index.timestamp(i) <= to {
            defer { i += 1 }
            if except.contains(i) { continue }
            switch index.typed[i] {
            case .writeback(.dirtyFolio), .jbd2(.handleStart), .ext4(.writeBegin), .ext4(.writepages):
                return "\(index.events[i].name) at event \(i) while the file system would be frozen"
            case .block(.bioQueue(let io)) where io.rwbs.operation == .write:
                return "a write bio at event \(i) while the file system would be frozen"
            case .syscall(.enter(.ioctl, let args)) where args.ioctl == .freeze || args.ioctl == .thaw:
                return "the recording's own freeze or thaw at event \(i)"
            default: break
            }
        }
        return nil
    }
}
