import Dispatch
import WritebackModel
import TraceIO

/// Replays under several profiles on two threads: the model's work grows
/// with the profiles, the graph's binding does not. The calling thread binds
/// each event once (`ReplayBinder`) and applies it to the first third of
/// the replays; a worker applies the same bound events, in the same order,
/// to a dispatcher of its own with the rest. Each dispatcher keeps what
/// every profile shares (file systems, large folios, lost windows), so
/// each replay sees exactly what one dispatcher of all of them
/// would show it (the block size a punch reads from a dispatcher's first
/// replay is every replay's: `learnBlockSize` teaches it to all), and the
/// result lists the replays in the order given.
///
/// Why: `diff --all-profiles` was bound by the model's thread (nine
/// profiles) while the reading thread mostly waited; on two cores the
/// worker takes that share. Its callers report no findings, so neither
/// dispatcher keeps the happens-before window the verdicts ask.
extension Replay {
    /// Events the calling thread hands to the worker at a time.
    static let splitBatch = 1024

    /// `run` without pruning and without judging findings (`diff`), with
    /// the replays split over two threads when there are two or more.
    static func runSplit(_ reader: some TraceReader, replays: [ProfileReplay], crossCPUBound: UInt64 = 100_000,
                         through: Int? = nil) throws -> ReplayDispatcher {
        guard replays.count > 1 else {
            return try run(reader, replays: replays, crossCPUBound: crossCPUBound, through: through, judgesFindings: false)
        }
        let reliability = TraceReliability(metadata: reader.metadata, crossCPUBound: crossCPUBound)
        // The calling thread also binds (about two profiles' worth of work
        // on the benchmark trace): it takes a third of the replays.
        let mine = max(1, replays.count / 3)
        var dispatcher = ReplayDispatcher(replays: Array(replays[..<mine]), reliability: reliability,
                                          metadata: reader.metadata)
        dispatcher.judgesFindings = false
        var other = ReplayDispatcher(replays: Array(replays[mine...]), reliability: reliability,
                                     metadata: reader.metadata, names: dispatcher.front.names.names)
        other.judgesFindings = false
        let worker = SplitWorker(other)
        var batch: [PreparedEvent] = []
        batch.reserveCapacity(splitBatch)
        let front: ReplayFrontEnd
        do {
            front = try ReplayPipeline.run(
                reader, options: ReadOptions(fields: ReplayFrontEnd.fields, keepRawText: false),
                front: dispatcher.front, through: through) { decoded in
                let prepared = dispatcher.binder.bind(&decoded)
                dispatcher.apply(prepared)
                batch.append(prepared)
                if batch.count == splitBatch {
                    worker.channel.send(batch)
                    batch = []
                    batch.reserveCapacity(splitBatch)
                }
            }
        } catch {
            worker.channel.send(batch)
            _ = worker.finish()
            throw error
        }
        worker.channel.send(batch)
        dispatcher.front = front
        dispatcher.finishReading()
        dispatcher.replays += worker.finish().replays
        return dispatcher
    }
}

/// The worker's dispatcher and the batches it is sent.
private final class SplitWorker: @unchecked Sendable {
    let channel = BatchChannel<PreparedEvent>(capacity: RecordPipeline.batchesInFlight)
    private let done = DispatchSemaphore(value: 0)
    /// Written by the worker only, read after `done`.
    private var dispatcher: ReplayDispatcher

    init(_ dispatcher: ReplayDispatcher) {
        self.dispatcher = dispatcher
        DispatchQueue.global().async { [self] in
            var d = self.dispatcher
            while let batch = channel.receive() {
                // In place: `for … in batch` copied every event out (a
                // retain and release of its edges and bios each).
                batch.withUnsafeBufferPointer { events in
                    for i in events.indices { d.apply(events[i]) }
                }
            }
            self.dispatcher = d
            done.signal()
        }
    }

    /// Waits until the worker applied every batch sent; its dispatcher.
    func finish() -> ReplayDispatcher {
        channel.finish()
        done.wait()
        return dispatcher
    }
}

extension Replay {
    /// `runSplit` of one replay per profile, all alike but for the profile
    /// (`diff`'s first pass), as few replays as the trace allows
    /// (`ProfileGroups`): the calling thread binds and replays the first
    /// half of the profiles, the worker the rest. The newer profiles of a
    /// list newest first tend to stay one group, the older ones to part.
    /// Returns the dispatcher with a replay per profile, and the groups the
    /// profiles ended in.
    static func runGrouped(_ reader: some TraceReader, profiles: [KernelProfile], stableWrites: Bool,
                           crossCPUBound: UInt64 = 100_000) throws -> (ReplayDispatcher, groups: [[KernelProfile]]) {
        let reliability = TraceReliability(metadata: reader.metadata, crossCPUBound: crossCPUBound)
        var binding = ReplayDispatcher(replays: [], reliability: reliability, metadata: reader.metadata)
        func start(_ profiles: [KernelProfile]) -> ProfileGroups {
            var d = ReplayDispatcher(replays: profiles.prefix(1).map {
                ProfileReplay(profile: $0, stableWrites: stableWrites, historyInode: nil)
            }, reliability: reliability, metadata: reader.metadata, names: binding.front.names.names)
            d.judgesFindings = false
            return ProfileGroups(profiles, start: d)
        }
        let mine = (profiles.count + 1) / 2
        var groups = start(Array(profiles[..<mine]))
        let worker = mine < profiles.count ? GroupWorker(start(Array(profiles[mine...]))) : nil
        var batch: [PreparedEvent] = []
        batch.reserveCapacity(splitBatch)
        let front: ReplayFrontEnd
        do {
            front = try ReplayPipeline.run(
                reader, options: ReadOptions(fields: ReplayFrontEnd.fields, keepRawText: false),
                front: binding.front) { decoded in
                batch.append(binding.binder.bind(&decoded))
                if batch.count == splitBatch {
                    worker?.channel.send(batch)
                    groups.apply(batch)
                    batch = []
                    batch.reserveCapacity(splitBatch)
                }
            }
        } catch {
            worker?.channel.send(batch)
            _ = worker?.finish()
            throw error
        }
        worker?.channel.send(batch)
        groups.apply(batch)
        binding.front = front
        binding.finishReading()
        let theirs = worker?.finish().groups ?? []
        binding.replays = (groups.groups + theirs).replays(in: profiles)
        return (binding, (groups.groups + theirs).map(\.members))
    }
}

/// The worker's groups and the batches it is sent.
private final class GroupWorker: @unchecked Sendable {
    let channel = BatchChannel<PreparedEvent>(capacity: RecordPipeline.batchesInFlight)
    private let done = DispatchSemaphore(value: 0)
    /// Written by the worker only, read after `done`.
    private var groups: ProfileGroups

    init(_ groups: ProfileGroups) {
        self.groups = groups
        DispatchQueue.global().async { [self] in
            var g = self.groups
            while let batch = channel.receive() { g.apply(batch) }
            self.groups = g
            done.signal()
        }
    }

    /// Waits until the worker applied every batch sent; its groups.
    func finish() -> ProfileGroups {
        channel.finish()
        done.wait()
        return groups
    }
}
