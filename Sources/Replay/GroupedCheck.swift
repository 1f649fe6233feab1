import EventGraph
import TraceIO
import WritebackModel

extension Replay {
    /// `check` of a trace that names no kernel: every profile a candidate,
    /// replayed as few times as the trace lets them share a replay
    /// (`ProfileGroups`, as `diff` does), their findings judged against one
    /// happens-before window, and every `pruneEvery` events only the best
    /// fits so far going on (`ReplayDispatcher.pruneProfiles`). Returns a
    /// dispatcher with a replay per profile still in the running, in the
    /// order given, the window, and the profiles pruned — what replaying
    /// each profile on its own in one dispatcher gives — with the groups
    /// those profiles ended in and how many judgements leaving classes took
    /// again from their group (`JudgementTape`; tests).
    ///
    /// Why: text traces (`trace-cmd report` output, tracefs `trace`) carry
    /// no kernel release. On a healthy trace of a recent kernel five
    /// profiles fit equally well all along and `check` replayed each one:
    /// on this machine's 9 M-event benchmark text, five replays of the
    /// model on the thread that also binds, where one does.
    static func runGroupedCheck(_ reader: some TraceReader, profiles: [KernelProfile], stableWrites: Bool,
                                historyInode: UInt64?, crossCPUBound: UInt64, pruneEvery: Int,
                                batch: Int = splitBatch, checkpointBatches: Int = ProfileGroups.checkpointBatches) throws
        -> (dispatcher: ReplayDispatcher, groups: [[KernelProfile]], retaken: Int) {
        let reliability = TraceReliability(metadata: reader.metadata, crossCPUBound: crossCPUBound)
        var binding = ReplayDispatcher(replays: [], reliability: reliability, metadata: reader.metadata)
        var start = ReplayDispatcher(replays: profiles.prefix(1).map {
            ProfileReplay(profile: $0, stableWrites: stableWrites, historyInode: historyInode)
        }, reliability: reliability, metadata: reader.metadata, names: binding.front.names.names)
        start.judgesFindings = false
        var groups = ProfileGroups(profiles, start: start, judging: (binding.happensBefore, reliability),
                                   pruneEvery: pruneEvery, checkpointBatches: checkpointBatches)
        binding.front = try bindInBatches(reader, front: binding.front, through: nil, batch: batch,
                                          bind: { binding.binder.bind(&$0) }, handOver: { groups.apply($0) })
        binding.finishReading()
        // The window judges what still waits at the end (`finishFindings`)
        // as it judged the rest; the reliability is the front end's, complete now.
        binding.happensBefore = groups.window!
        binding.replays = groups.groups.replays(in: profiles)
        binding.pruned = groups.pruned
        return (binding, groups.groups.map(\.members), groups.judgementsRetaken)
    }
}
