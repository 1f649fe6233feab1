/// The findings a replay judged since its group's last checkpoint
/// (`ProfileGroups`), so that a class of profiles that leaves the group
/// takes the same judgements again when it replays those events.
///
/// Why: a judgement reads the happens-before window (`OrderJudge`), which
/// the groups of a `check` share and which is fed each event once, before
/// any group applies it. A class that leaves at event `e` replays the
/// events since the checkpoint with the window already at `e`: an edge
/// found since (the completion that queued a conversion, linked when the
/// work converts) or an event that left the window since could change an
/// answer. Up to `e` the class takes exactly the group's steps, so it
/// finds the same findings in the same order and may take the group's
/// judgements of them as they were made; from `e` on it judges its own
/// against the window, which is then where it would have been.
struct JudgementTape {
    /// Whether judgements are recorded (a replay of a group that may part).
    var isOn = false
    /// Judged findings since the last checkpoint, with the event judged at.
    private(set) var recorded: [(event: Int, finding: PendingFinding)] = []
    /// Judgements to take again instead of judging, for events before `until`.
    private var replaying: ArraySlice<(event: Int, finding: PendingFinding)> = []
    private var until = 0
    /// How many judgements were taken again (tests).
    private(set) var retaken = 0

    /// A checkpoint: what was judged before it is never asked for again.
    mutating func clear() {
        recorded.removeAll()
    }

    /// The group's members agree in every trait now and never part: no
    /// more recording. Judgements still to be taken again stay.
    mutating func stopRecording() {
        isOn = false
        recorded = []
    }

    /// Takes `judgements` again at the events before `event`.
    mutating func replay(_ judgements: [(event: Int, finding: PendingFinding)], before event: Int) {
        recorded = []
        replaying = judgements[...]
        until = event
    }

    /// The judged form of `finding` at event `now`, as the group judged it,
    /// when this replay takes the group's judgements there; nil otherwise.
    mutating func taken(_ finding: PendingFinding, at now: Int) -> PendingFinding? {
        guard now < until, let next = replaying.first else { return nil }
        // The same steps give the same findings in the same order.
        precondition(next.event == now && next.finding.violation == finding.violation && next.finding.at == finding.at,
                     "a class leaving its group judged a finding its group did not")
        replaying.removeFirst()
        retaken += 1
        return next.finding
    }

    /// Notes `finding`, judged at event `now`.
    mutating func record(_ finding: PendingFinding, at now: Int) {
        guard isOn else { return }
        recorded.append((now, finding))
    }
}
