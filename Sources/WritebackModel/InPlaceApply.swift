import TraceIO

// Applying a transition to a state the caller owns, for a replay that
// drives one long-lived state through millions of events: copying the whole
// state per event (as `apply(_:to:)` must, to keep the old one) would cost
// O(inodes). Here only what the rules read is kept aside.

extension WritebackModel {
    /// Applies `transition` to `state` in place and returns the rules it
    /// broke. Throws, leaving `state` unchanged, if it is not enabled.
    public func apply(_ transition: Transition, in state: inout ModelState) throws(NotEnabled) -> [RuleViolation] {
        let footprint = state.footprint(of: transition)
        guard !RuleChecker.readsMoreThanInodes(transition, footprint: footprint, in: state) else {
            let before = state.ruleSnapshot(for: transition, footprint: footprint)
            if let reason = perform(transition, on: &state) {
                throw NotEnabled(transition: transition, reason: reason)
            }
            return RuleChecker.check(before: before, footprint: footprint, transition: transition, after: state)
        }
        // Most steps: only the inode rules could fire, and they read
        // nothing of the state before but the footprint inodes' extent map,
        // io_ends and lifecycle — kept aside here for the price of a few
        // reference counts, where a snapshot would copy whole inodes.
        let kept = footprint.inodes.map { ref in
            (ref, state.inodes[ref].map { ($0.extents, $0.ioEnds, $0.lifecycle) })
        }
        if let reason = perform(transition, on: &state) {
            throw NotEnabled(transition: transition, reason: reason)
        }
        var before: ModelState?
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
}

extension RuleChecker {
    /// Whether a rule may read more of the state before `t` than the
    /// footprint inodes' extents, io_ends and lifecycle: an fsync may
    /// return, a folio be read in, a frozen file system be written, or a
    /// folio change on a device that needs stable pages.
    static func readsMoreThanInodes(_ t: Transition, footprint: (dev: DeviceNumber?, inodes: [InodeRef]),
                                    in state: ModelState) -> Bool {
        if case .task(let id) = t.actor, case .syncFile? = state.tasks[id]?.operation { return true }
        switch t {
        case .ext4ReadFolio, .filemapFault: return true
        default: break
        }
        guard let dev = footprint.dev, let sb = state.superblocks[dev] else { return false }
        if sb.freeze == .frozen { return true }
        return sb.stableWrites && modifiedFolio(t, state) != nil
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
