import TraceIO

/// The seven rules, as invariants over (state before, transition, state
/// after). They read only state — never the profile — so a profile can
/// change which transitions happen but not what counts as a bug. Each check
/// looks only at the objects the transition touches.
enum RuleChecker {
    static func check(before: ModelState, transition t: Transition, after: ModelState) -> [RuleViolation] {
        check(before: before, footprint: before.footprint(of: t), transition: t, after: after)
    }

    /// `check` with the footprint of `t` in the state before it (computed
    /// by the caller, whose `before` may hold only what the rules read).
    static func check(before: ModelState, footprint: (dev: DeviceNumber?, inodes: [InodeRef]),
                      transition t: Transition, after: ModelState) -> [RuleViolation] {
        let (dev, inodes) = footprint
        var out: [RuleViolation] = []
        fsyncBeforeConversion(before, t, after, &out)
        for inode in inodes {
            staleReadBeforeConversion(inode, before, t, after, &out)
            truncateDuringConversion(inode, before, t, after, &out)
            evictWithPendingIO(inode, before, t, after, &out)
            conversionAfterIOError(inode, before, t, after, &out)
        }
        if let dev {
            writeWhileFrozen(dev, before, t, after, &out)
            unstablePageWrite(dev, before, t, after, &out)
        }
        return out
    }

    /// fsync-before-conversion: an fsync returns while data it had to make
    /// durable — folios dirty when it started, io_ends under way then — sits
    /// on disk in blocks the extent tree still calls unwritten.
    static func fsyncBeforeConversion(_ before: ModelState, _ t: Transition, _ after: ModelState,
                                      _ out: inout [RuleViolation]) {
        guard case .task(let id) = t.actor, case .syncFile(let p)? = before.tasks[id]?.operation,
              after.tasks[id] == nil, let inode = after.inodes[p.inode] else { return }
        // The few io_ends the rule applies to, then in serial order: a replay
        // the trace does not fit holds many io_ends at every fsync's end.
        var due: [Int] = []
        for (serial, io) in inode.ioEnds where io.dataOnDisk && !io.flags.contains(.failed) && !io.unwrittenRanges.isEmpty
            && (p.preexisting.contains(serial) || io.folios.contains(where: p.covered.contains)) {
            due.append(serial)
        }
        for serial in due.sorted() {
            let io = inode.ioEnds[serial]!
            for range in io.unwrittenRanges {
                for stale in inode.extents.ranges(in: range, state: .unwritten) {
                    out.append(RuleViolation(
                        rule: .fsyncBeforeConversion, dev: p.inode.dev, inode: p.inode, range: stale,
                        ioEnd: IoEndRef(inode: p.inode, serial: serial), transition: t,
                        detail: "fsync returned while the written data of blocks \(stale) is still behind an unwritten extent (io_end \(io.phase))"))
                }
            }
        }
    }

    /// stale-read-before-conversion: a folio is read back from disk while
    /// some of its blocks hold completed data behind an unwritten extent.
    static func staleReadBeforeConversion(_ ref: InodeRef, _ before: ModelState, _ t: Transition,
                                          _ after: ModelState, _ out: inout [RuleViolation]) {
        let folio: FolioRef
        switch t {
        case .ext4ReadFolio(_, let f), .filemapFault(_, let f): folio = f
        default: return
        }
        guard folio.inode == ref, before.folio(folio) == nil, after.folio(folio) != nil,
              let inode = after.inodes[ref] else { return }
        let blocks = after.blocks(of: folio)
        for serial in inode.ioEnds.keys.sorted() {
            let io = inode.ioEnds[serial]!
            guard io.dataOnDisk, !io.flags.contains(.failed) else { continue }
            for range in io.unwrittenRanges {
                guard let overlap = range.intersection(blocks) else { continue }
                for stale in inode.extents.ranges(in: overlap, state: .unwritten) {
                    out.append(RuleViolation(
                        rule: .staleReadBeforeConversion, dev: ref.dev, inode: ref, range: stale,
                        ioEnd: IoEndRef(inode: ref, serial: serial), folio: folio, transition: t,
                        detail: "the folio was read back as zeros: its data is on disk but blocks \(stale) are still unwritten"))
                }
            }
        }
    }

    /// truncate-during-conversion: blocks are freed while an io_end whose
    /// conversion covers them has not been converted.
    static func truncateDuringConversion(_ ref: InodeRef, _ before: ModelState, _ t: Transition,
                                         _ after: ModelState, _ out: inout [RuleViolation]) {
        // Only a step that freed blocks can (ExtentMap counts its frees, so
        // most steps answer without comparing the maps).
        guard let old = before.inodes[ref], let new = after.inodes[ref],
              !new.extents.freed(since: old.extents).isEmpty else { return }
        for serial in old.ioEnds.keys.sorted() {
            let io = old.ioEnds[serial]!
            guard before.conversionPending(io) else { continue }
            for range in io.unwrittenRanges {
                for run in old.extents.states(in: range) where run.state != .hole {
                    for freed in new.extents.ranges(in: run.range, state: .hole) {
                        out.append(RuleViolation(
                            rule: .truncateDuringConversion, dev: ref.dev, inode: ref, range: freed,
                            ioEnd: IoEndRef(inode: ref, serial: serial), transition: t,
                            detail: "blocks \(freed) were removed while their conversion was pending (io_end \(io.phase))"))
                    }
                }
            }
        }
    }

    /// evict-with-pending-io: the inode is freed while an io_end of it still
    /// awaits conversion or release, or its conversion work is still queued.
    static func evictWithPendingIO(_ ref: InodeRef, _ before: ModelState, _ t: Transition,
                                   _ after: ModelState, _ out: inout [RuleViolation]) {
        guard let old = before.inodes[ref], old.lifecycle != .freed,
              let new = after.inodes[ref], new.lifecycle == .freed else { return }
        for serial in new.ioEnds.keys.sorted() {
            let io = new.ioEnds[serial]!
            let lo = io.ranges.map(\.lblk).min() ?? 0
            let hi = io.ranges.map(\.end).max() ?? lo
            out.append(RuleViolation(
                rule: .evictWithPendingIO, dev: ref.dev, inode: ref, range: BlockRange(lblk: lo, len: hi - lo),
                ioEnd: IoEndRef(inode: ref, serial: serial), transition: t,
                detail: "the inode was freed while io_end \(serial) is \(io.phase)\(io.phase == .queued ? " with its conversion work queued" : "")"))
        }
    }

    /// conversion-after-io-error: blocks of an io_end whose write failed go
    /// from unwritten to written.
    static func conversionAfterIOError(_ ref: InodeRef, _ before: ModelState, _ t: Transition,
                                       _ after: ModelState, _ out: inout [RuleViolation]) {
        guard let old = before.inodes[ref], let new = after.inodes[ref], old.extents != new.extents else { return }
        for serial in old.ioEnds.keys.sorted() {
            let io = old.ioEnds[serial]!
            guard io.flags.contains(.failed) else { continue }
            for range in io.unwrittenRanges {
                for was in old.extents.ranges(in: range, state: .unwritten) {
                    for now in new.extents.ranges(in: was, state: .written) {
                        out.append(RuleViolation(
                            rule: .conversionAfterIOError, dev: ref.dev, inode: ref, range: now,
                            ioEnd: IoEndRef(inode: ref, serial: serial), transition: t,
                            detail: "blocks \(now) were converted to written although the write carrying their data failed: reads now return stale disk contents"))
                    }
                }
            }
        }
    }

    /// write-while-frozen: on a frozen fs, a folio becomes dirty, or a
    /// write bio is submitted or issued.
    static func writeWhileFrozen(_ dev: DeviceNumber, _ before: ModelState, _ t: Transition,
                                 _ after: ModelState, _ out: inout [RuleViolation]) {
        guard before.superblocks[dev]?.freeze == .frozen else { return }
        if let folio = dirtiedFolio(t, before), before.folio(folio)?.dirty != true, after.folio(folio)?.dirty == true {
            out.append(RuleViolation(
                rule: .writeWhileFrozen, dev: dev, inode: folio.inode, range: after.blocks(of: folio),
                folio: folio, transition: t, detail: "a folio was dirtied on a frozen file system"))
        }
        if let bio = issuedBio(t, before, after), let state = after.bio(bio) {
            out.append(RuleViolation(
                rule: .writeWhileFrozen, dev: dev, inode: bio.ioEnd.inode, range: state.range,
                ioEnd: bio.ioEnd, transition: t, detail: "a write was sent to the device of a frozen file system"))
        }
    }

    /// unstable-page-write: on a device that needs stable pages, a folio is
    /// modified while its writeback is in flight.
    static func unstablePageWrite(_ dev: DeviceNumber, _ before: ModelState, _ t: Transition,
                                  _ after: ModelState, _ out: inout [RuleViolation]) {
        guard before.superblocks[dev]?.stableWrites == true, let folio = modifiedFolio(t, before),
              before.folio(folio)?.writeback == true else { return }
        out.append(RuleViolation(
            rule: .unstablePageWrite, dev: dev, inode: folio.inode, range: before.blocks(of: folio),
            folio: folio, transition: t,
            detail: "the folio's contents changed while it was under writeback on a device that requires stable writes"))
    }

    /// The folio a transition may turn dirty.
    static func dirtiedFolio(_ t: Transition, _ before: ModelState) -> FolioRef? {
        switch t {
        case .ext4PageMkwrite(_, let f), .zapPteRange(_, let f): return f
        case .ext4DaWriteEnd(let id):
            if case .bufferedWrite(let f)? = before.tasks[id]?.operation { return f }
            return nil
        default: return nil
        }
    }

    /// The folio whose contents a transition changes (the copy in
    /// write_end, the store after a fault, a store through a writable PTE).
    static func modifiedFolio(_ t: Transition, _ before: ModelState) -> FolioRef? {
        switch t {
        case .ext4PageMkwrite(_, let f), .userStore(_, let f): return f
        case .ext4DaWriteEnd: return dirtiedFolio(t, before)
        default: return nil
        }
    }

    /// The write bio a transition submits or issues.
    static func issuedBio(_ t: Transition, _ before: ModelState, _ after: ModelState) -> BioRef? {
        switch t {
        case .blkMqStartRequest(let b): return b
        case .ext4IoSubmit(_, let io):
            let n = after.ioEnd(io)?.bios.count ?? 0
            return n > (before.ioEnd(io)?.bios.count ?? 0) ? BioRef(ioEnd: io, index: n - 1) : nil
        default: return nil
        }
    }
}
