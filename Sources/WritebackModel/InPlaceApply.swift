import TraceIO

// Applying a transition to a state the caller owns, for a replay that
// drives one long-lived state through millions of events: copying the whole
// state per event (as `apply(_:to:)` must, to keep the old one) would cost
// O(inodes). Here only what the rules read is kept aside.

extension WritebackModel {
    /// Applies `transition` to `state` in place and returns the rules it
    /// broke. Throws, leaving `state` unchanged, if it is not enabled.
    public func apply(_ transition: Transition, in state: inout ModelState) throws(NotEnabled) -> [RuleViolation] {
        let before = state.ruleSnapshot(for: transition)
        if let reason = perform(transition, on: &state) {
            throw NotEnabled(transition: transition, reason: reason)
        }
        return RuleChecker.check(before: before, transition: transition, after: state)
    }
}

extension ModelState {
    /// The part of the state the rules read as "before" for `t`: every
    /// superblock, the actor's task, and the footprint inodes with only the
    /// folios the transition names (rules look at no other folio).
    func ruleSnapshot(for t: Transition) -> ModelState {
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
        for ref in footprint(of: t).inodes {
            guard var inode = inodes[ref] else { continue }
            var kept = FolioTable()
            for f in named where f.inode == ref { kept[f.index] = inode.folios[f.index] }
            inode.folios = kept
            snap.inodes[ref] = inode
        }
        return snap
    }
}
