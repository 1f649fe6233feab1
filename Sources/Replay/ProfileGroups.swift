import EventGraph
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
/// `check` of a trace that names no kernel judges the groups' findings
/// against one happens-before window and prunes whole groups
/// (`Replay.runGroupedCheck`); a class that leaves takes its group's
/// judgements since the checkpoint again (`JudgementTape`).
///
/// Why: `diff --all-profiles` replays nine profiles, and `check` of a text
/// trace as many; on a healthy trace of a recent kernel the newest five
/// read the same answer from every trait their events ask, and replaying
/// them once is five times cheaper.
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

        /// `check`: this group's replay records its judgements while its
        /// members may part (`JudgementTape`).
        mutating func keepsJudgements() {
            dispatcher.replays[0].tape.isOn = !disagreement.isEmpty
        }

        /// Applies `event`, noting the traits it reads; `parting` then
        /// tells who leaves. Between the two, `check` judges the findings
        /// that wait, so that a trait a judgement reads counts too.
        mutating func applyNoting(_ event: PreparedEvent) {
            if !disagreement.isEmpty { log.read = [] }
            dispatcher.apply(event)
        }

        /// The classes of members that must leave after the event applied
        /// (`applyNoting`): their answer to a trait it read differs from the
        /// first member's. Keeps the rest.
        mutating func parting() -> [[KernelProfile]] {
            guard !disagreement.isEmpty else { return [] }
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
    let checkpointBatches: Int
    static let checkpointBatches = 16
    /// `check`: the happens-before window the groups judge their findings
    /// against, fed each event once before any group applies it (the
    /// groups' dispatchers keep none); nil when findings are not judged.
    private(set) var window: HappensBeforeWindow?
    private let reliability: TraceReliability?
    /// `check`: every this many events, only the groups whose replay fits
    /// best so far go on (`ReplayDispatcher.pruneProfiles`).
    let pruneEvery: Int?
    /// The profiles pruned: divergences when dropped, at which event count.
    private(set) var pruned: [(profile: KernelProfile, divergences: Int, atEvent: Int)] = []
    /// The profiles as given: the order of pruning and of best fit.
    let profiles: [KernelProfile]
    /// Judgements classes took again from the group they left (`JudgementTape`).
    private(set) var judgementsRetaken = 0

    /// `start`: a dispatcher holding one replay, under any of `profiles`,
    /// before the first event. `judging`: the window and the trace's
    /// reliability to judge findings with (`start` must not judge them itself).
    init(_ profiles: [KernelProfile], start: ReplayDispatcher, judging: (HappensBeforeWindow, TraceReliability)? = nil,
         pruneEvery: Int? = nil, checkpointBatches: Int = Self.checkpointBatches) {
        precondition(judging == nil || !start.judgesFindings, "the groups' window judges their findings")
        self.profiles = profiles
        window = judging?.0
        reliability = judging?.1
        self.pruneEvery = pruneEvery
        self.checkpointBatches = checkpointBatches
        groups = profiles.isEmpty ? [] : [Group(profiles, from: start)]
        if judging != nil, !groups.isEmpty { groups[0].keepsJudgements() }
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
                window?.add(event.stamp.stream, tag: event.stamp.name.id, edges: event.edges)
                for g in groups.indices {
                    groups[g].applyNoting(event)
                    if let judge = judge(groups[g]) { groups[g].dispatcher.judgeWaiting(judge) }
                    let parting = groups[g].parting()
                    for members in parting {
                        let judged = groups[g].dispatcher.replays[0].tape.recorded
                        let joining = caughtUp(members, from: groups[g].checkpoint, through: e,
                                               judged: (judged, before: event.stamp.index))
                        judgementsRetaken += joining.map { $0.dispatcher.replays[0].tape.retaken }.reduce(0, +)
                        groups += joining
                    }
                }
                if let every = pruneEvery, event.stamp.index % every == every - 1 { prune(atEvent: event.stamp.index + 1) }
            }
        }
        if keeps && (since.count == checkpointBatches || !mayPart) {
            // Only a group that may part needs its checkpoint: a copy
            // costs what the group changes after it.
            for g in groups.indices where !groups[g].disagreement.isEmpty {
                groups[g].checkpoint = groups[g].dispatcher
                groups[g].dispatcher.replays[0].tape.clear()
            }
            since.removeAll(keepingCapacity: true)
        }
    }

    /// `check`: what judges the group's findings that wait, if any do, now
    /// that it applied an event (a copy of the window: only then).
    private func judge(_ group: Group) -> OrderJudge? {
        guard let reliability, group.dispatcher.replays[0].waitingFindings, let window else { return nil }
        return OrderJudge(window: window, reliability: reliability)
    }

    /// Keeps only the groups whose replay ranks first among the profiles'
    /// so far, as `ReplayDispatcher.pruneProfiles` does with one replay each.
    private mutating func prune(atEvent events: Int) {
        let members = profiles.compactMap { p in groups.first { $0.members.contains(p) }.map { (p, $0.dispatcher.replays[0]) } }
        guard members.count > 1, let best = ProfileSelection.ranked(members.map(\.1)).first else { return }
        pruned += members.filter { !ProfileSelection.fitsAsWell($0.1, as: best) }.map { ($0.0, $0.1.divergenceCount, events) }
        groups.removeAll { !ProfileSelection.fitsAsWell($0.dispatcher.replays[0], as: best) }
    }

    /// A group of `members` from `checkpoint` through the events since, up
    /// to the one of index `last` in the newest batch, and the groups that
    /// leave it on the way.
    /// `judged`: the findings the group left judged since the checkpoint
    /// (`check`), taken again at the events before the one the class left at.
    private func caughtUp(_ members: [KernelProfile], from checkpoint: ReplayDispatcher, through last: Int,
                          judged: (findings: [(event: Int, finding: PendingFinding)], before: Int)) -> [Group] {
        var group = Group(members, from: checkpoint)
        if window != nil {
            group.keepsJudgements()
            group.dispatcher.replays[0].tape.replay(judged.findings, before: judged.before)
        }
        var parted: [Group] = []
        for (b, batch) in since.enumerated() {
            for e in batch.indices where b < since.count - 1 || e <= last {
                group.applyNoting(batch[e])
                if let judge = judge(group) { group.dispatcher.judgeWaiting(judge) }
                let parting = group.parting()
                for leaving in parting {
                    parted += caughtUp(leaving, from: checkpoint, through: last, judged: judged)
                }
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
