import TraceIO

// Applying a transition to a state the caller owns, for a replay that
// drives one long-lived state through millions of events: copying the whole
// state per event (as `apply(_:to:)` must, to keep the old one) would cost
// O(inodes). Here only what the rules read is kept aside.

extension WritebackModel {
    /// Applies `transition` to `state` in place and returns the rules it
    /// broke. Throws, leaving `state` unchanged, if it is not enabled.
    public func apply(_ transition: Transition, in state: inout ModelState) throws(NotEnabled) -> [RuleViolation] {
        try apply(transition, in: &state, passing: [])
    }

    /// `apply(_:in:)` going past the waits in `passing` (`force`).
    func apply(_ transition: Transition, in state: inout ModelState,
               passing: Waits) throws(NotEnabled) -> [RuleViolation] {
        // A task inside fsync (its writeback runs in the fsync's task) may
        // end the fsync with this step: fsync-before-conversion then reads
        // the task's operation before (`syncing`), and nothing else of that state.
        let (dev, inodes, syncing) = state.footprintAndSyncingTask(of: transition)
        let footprint = (dev: dev, inodes: inodes)
        guard !RuleChecker.readsMoreThanInodes(transition, footprint: footprint, in: state) else {
            let before = state.ruleSnapshot(for: transition, footprint: footprint)
            if let blocker = perform(transition, on: &state, passing: passing) {
                throw NotEnabled(transition: transition, blocker: blocker)
            }
            return RuleChecker.check(before: before, footprint: footprint, transition: transition, after: state)
        }
        // Most steps: only the inode rules could fire, and only after a step
        // that changed an extent map or freed an inode. The hot steps of
        // writeback never do, and conversions free nothing — they can break
        // a rule only for an io_end whose write failed (`extentChange`):
        // then nothing is kept aside.
        let change = RuleChecker.extentChange(transition, in: state)
        if change == .none || change == .freesNothing && !RuleChecker.hasFailedIoEnd(footprint.inodes, in: state) {
            #if DEBUG
            let extentsBefore = footprint.inodes.map { state.inodes[$0].map { ($0.extents, $0.lifecycle) } }
            #endif
            if let blocker = perform(transition, on: &state, passing: passing) {
                throw NotEnabled(transition: transition, blocker: blocker)
            }
            #if DEBUG
            for (ref, old) in zip(footprint.inodes, extentsBefore) {
                guard let (extents, lifecycle) = old, let now = state.inodes[ref] else { continue }
                let kept = change == .none ? now.extents == extents : now.extents.freed(since: extents).isEmpty
                assert(kept && (lifecycle == .freed || now.lifecycle != .freed),
                       "\(transition.kernelFunction) changed more than extentChange says (\(change))")
            }
            #endif
            guard let before = Self.endedFsync(syncing, after: state) else { return [] }
            return RuleChecker.check(before: before, footprint: footprint, transition: transition, after: state)
        }
        // The rest keep the footprint inodes' extent map, io_ends and
        // lifecycle aside, for the price of a few reference counts, where a
        // snapshot would copy whole inodes.
        let kept = footprint.inodes.map { ref in
            (ref, state.inodes[ref].map { ($0.extents, $0.ioEnds, $0.lifecycle) })
        }
        if let blocker = perform(transition, on: &state, passing: passing) {
            throw NotEnabled(transition: transition, blocker: blocker)
        }
        var before = Self.endedFsync(syncing, after: state)
        for (ref, old) in kept {
            guard let (extents, ioEnds, lifecycle) = old, var inode = state.inodes[ref] else { continue }
            // An unchanged map and an inode not freed now: no inode rule can fire.
            guard inode.extents != extents || (lifecycle != .freed && inode.lifecycle == .freed) else { continue }
            inode.extents = extents
            inode.ioEnds = ioEnds
            inode.lifecycle = lifecycle
            inode.folios = FolioTable()
            if before == nil { before = ModelState() }
            before!.inodes[ref] = inode
        }
        guard let before else { return [] }
        return RuleChecker.check(before: before, footprint: footprint, transition: transition, after: state)
    }

    /// The state before a step as fsync-before-conversion reads it — the
    /// fsync's task alone — when the step ended that fsync; nil otherwise.
    private static func endedFsync(_ syncing: (id: Int, task: TaskState)?, after state: ModelState) -> ModelState? {
        guard let (id, task) = syncing, state.tasks[id] == nil else { return nil }
        var before = ModelState()
        before.tasks[id] = task
        return before
    }
}

extension RuleChecker {
    /// Whether a rule may read more of the state before `t` than the
    /// footprint inodes' extents, io_ends and lifecycle and the state of a
    /// task inside fsync (`ModelState.footprintAndSyncingTask`): a folio be
    /// read in, a frozen file system be written, or a folio change on a
    /// device that needs stable pages.
    static func readsMoreThanInodes(_ t: Transition, footprint: (dev: DeviceNumber?, inodes: [InodeRef]),
                                    in state: ModelState) -> Bool {
        switch t {
        case .ext4ReadFolio, .filemapFault: return true
        default: break
        }
        guard let dev = footprint.dev, let sb = state.superblocks[dev] else { return false }
        if sb.freeze == .frozen { return true }
        return sb.stableWrites && modifiedFolio(t, state) != nil
    }

    /// What a transition may do to the footprint inodes' extent maps and lifecycles.
    enum ExtentChange: Equatable {
        /// Nothing: no inode rule can fire.
        case none
        /// Allocate or convert blocks, never free a block or an inode: only
        /// conversion-after-io-error can fire, for an io_end that had failed.
        case freesNothing
        /// Anything (removal, eviction, and every transition not listed).
        case any
    }

    /// What `t` may do to extent maps and lifecycles. Debug builds assert,
    /// in `apply(_:in:)`, that no transition does more than listed here, so
    /// every test checks the lists; `ext4_bio_write_folio` allocates only
    /// where its folio has a hole.
    static func extentChange(_ t: Transition, in state: ModelState) -> ExtentChange {
        switch t {
        case .ext4DaWriteBegin, .ext4DaWriteEnd, .ext4PageMkwrite, .userStore, .filemapFault, .zapPteRange,
             .ext4Writepages, .mpageSubmitFolio, .ext4IoSubmit, .ext4WritepagesResult,
             .blkMqStartRequest, .ext4EndBio, .ext4AddCompleteIo, .shrinkFolioList, .ext4ReadFolio,
             .ext4SyncFile, .filemapFdatawaitRange, .ext4SyncFileReturn,
             .freezeSuper, .ext4Freeze, .thawSuper, .ext4Unfreeze, .ext4NewInode, .unlockNewInode:
            return .none
        case .ext4BioWriteFolio(_, let folio):
            let allocates = state.inodes[folio.inode]?.extents.hasHole(in: state.blocks(of: folio)) ?? true
            return allocates ? .freesNothing : .none
        case .ext4PutIoEnd, .ext4EndIoWork, .ext4EndIoRsvWork, .ext4ConvertUnwrittenIoEndVec, .ext4ReleaseIoEnd,
             .ext4FreeIoEnds, .ext4FlushCompletedIO, .ext4UnwrittenWait, .ext4Fallocate:
            return .freesNothing
        default:
            return .any
        }
    }

    /// Whether an io_end of these inodes has FAILED (what
    /// conversion-after-io-error looks for before a conversion).
    static func hasFailedIoEnd(_ inodes: [InodeRef], in state: ModelState) -> Bool {
        inodes.contains { ref in state.inodes[ref]?.ioEnds.values.contains { $0.flags.contains(.failed) } ?? false }
    }
}

extension ModelState {
    /// The part of the state the rules read as "before" for `t`: every
    /// superblock, the actor's task, and the footprint inodes with only the
    /// folios the transition names (rules look at no other folio).
    func ruleSnapshot(for t: Transition, footprint: (dev: DeviceNumber?, inodes: [InodeRef])) -> ModelState {
        var snap = ModelState()
        snap.superblocks = superblocks
        if case .task(let id) = t.actor, let task = tasks[id] { snap.tasks[id] = task }
        var named: [FolioRef] = []
        if let f = RuleChecker.dirtiedFolio(t, self) { named.append(f) }
        if let f = RuleChecker.modifiedFolio(t, self) { named.append(f) }
        switch t {
        case .ext4ReadFolio(_, let f), .filemapFault(_, let f): named.append(f)
        default: break
        }
        for ref in footprint.inodes {
            guard var inode = inodes[ref] else { continue }
            var kept = FolioTable()
            for f in named where f.inode == ref { kept[f.index] = inode.folios[f.index] }
            inode.folios = kept
            snap.inodes[ref] = inode
        }
        return snap
    }
}
