import WritebackModel

/// Several profiles replayed as one while the trace gives them no reason to
/// differ. The profiles of a group differ only in some traits
/// (`KernelProfile.disagreement`); the group's one replay runs under its
/// first member and notes every trait it reads (`TraitLog`). As long as no
/// event read a trait on which the members disagree, every member's own
/// replay would have taken exactly the same steps (the model and the replay
/// are deterministic and see a profile only through its traits), so the
/// one replay is each member's. When an event reads such a trait, the
/// members whose answer differs from the first's leave: each such class
/// starts again from the group's last checkpoint, under its own first
/// member, and replays the events since (kept for that) — it reads nothing
/// its old group disagreed on before that event, so it comes to the event
/// in the state the group had, and from there goes its own way.
///
/// Why: `diff --all-profiles` replays nine profiles; on a healthy trace of
/// a recent kernel the newest four read the same answer from every trait
/// their events ask, and replaying them once is four times cheaper.
struct ProfileGroups {
    /// One replay, and the profiles it stands for.
    struct Group {
        /// Holds exactly the group's replay (under `members[0]`): a
        /// dispatcher's shared state comes from the events alone, so each
        /// group keeps its own.
        var dispatcher: ReplayDispatcher
        var members: [KernelProfile]
        /// The traits on which the members do not all agree.
        var disagreement: KernelTraitSet
        let log = TraitLog()
        /// The dispatcher as it was at the last checkpoint.
        var checkpoint: ReplayDispatcher

        init(_ members: [KernelProfile], from start: ReplayDispatcher) {
            self.members = members
            disagreement = KernelProfile.disagreement(among: members)
            dispatcher = start
            dispatcher.replays[0].rebase(onto: members[0], log: disagreement.isEmpty ? nil : log)
            checkpoint = start
        }

        /// Applies `event`; returns the classes of members that must leave
        /// (their answer to a trait the event read differs from the first
        /// member's), and keeps the rest.
        mutating func apply(_ event: PreparedEvent) -> [[KernelProfile]] {
            guard !disagreement.isEmpty else {
                dispatcher.apply(event)
                return []
            }
            log.read = []
            dispatcher.apply(event)
            let read = log.read.intersection(disagreement)
            guard !read.isEmpty else { return [] }
            let first = members[0]
            var leaving = members.filter { !$0.agrees(with: first, on: read) }
            members.removeAll { !$0.agrees(with: first, on: read) }
            disagreement = KernelProfile.disagreement(among: members)
            if disagreement.isEmpty { dispatcher.replays[0].rebase(onto: members[0], log: nil) }
            var classes: [[KernelProfile]] = []
            while let first = leaving.first {
                classes.append(leaving.filter { $0.agrees(with: first, on: read) })
                leaving.removeAll { $0.agrees(with: first, on: read) }
            }
            return classes
        }
    }

    private(set) var groups: [Group]
    /// The batches of events since the last checkpoint (kept whole: an
    /// event copied out of its batch costs a retain of each array in it).
    private var since: [[PreparedEvent]] = []

    /// Batches between checkpoints: a class that leaves its group replays
    /// at most this many again, and a checkpoint costs a copy of what
    /// changes after it.
    static let checkpointBatches = 16

    /// `start`: a dispatcher holding one replay, under any of `profiles`,
    /// before the first event.
    init(_ profiles: [KernelProfile], start: ReplayDispatcher) {
        groups = profiles.isEmpty ? [] : [Group(profiles, from: start)]
    }

    /// Whether a group may still part: its members differ in some trait.
    /// (Groups only shrink, so once none may, none ever will.)
    var mayPart: Bool { groups.contains { !$0.disagreement.isEmpty } }

    /// Applies the events of `batch`, in order, to every group.
    mutating func apply(_ batch: [PreparedEvent]) {
        let keeps = mayPart
        if keeps { since.append(batch) }
        batch.withUnsafeBufferPointer { events in
            for e in events.indices {
                // Copied once for all groups (a retain of each array in it):
                // passed from the buffer, it was copied for each, since
                // a group's step could write where the buffer points.
                let event = events[e]
                for g in groups.indices {
                    for members in groups[g].apply(event) {
                        groups += caughtUp(members, from: groups[g].checkpoint, through: e)
                    }
                }
            }
        }
        if keeps && (since.count == Self.checkpointBatches || !mayPart) {
            // Only a group that may part needs its checkpoint: a copy
            // costs what the group changes after it.
            for g in groups.indices where !groups[g].disagreement.isEmpty { groups[g].checkpoint = groups[g].dispatcher }
            since.removeAll(keepingCapacity: true)
        }
    }

    /// A group of `members` from `checkpoint` through the events since, up
    /// to the one of index `last` in the newest batch, and the groups that
    /// leave it on the way.
    private func caughtUp(_ members: [KernelProfile], from checkpoint: ReplayDispatcher, through last: Int) -> [Group] {
        var group = Group(members, from: checkpoint)
        var parted: [Group] = []
        for (b, batch) in since.enumerated() {
            for e in batch.indices where b < since.count - 1 || e <= last {
                for leaving in group.apply(batch[e]) { parted += caughtUp(leaving, from: checkpoint, through: last) }
            }
        }
        return [group] + parted
    }
}

extension [ProfileGroups.Group] {
    /// Every profile's replay, in the order of `profiles`.
    func replays(in profiles: [KernelProfile]) -> [ProfileReplay] {
        profiles.compactMap { p in
            guard let g = first(where: { $0.members.contains(p) }) else { return nil }
            var replay = g.dispatcher.replays[0]
            replay.rebase(onto: p, log: nil)
            return replay
        }
    }
}
