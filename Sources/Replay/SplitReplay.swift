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
        let worker = BatchWorker(other) { d, batch in
            // In place: `for … in batch` copied every event out (a retain
            // and release of its edges and bios each).
            batch.withUnsafeBufferPointer { events in
                for i in events.indices { d.apply(events[i]) }
            }
        }
        let front: ReplayFrontEnd
        do {
            front = try bindInBatches(reader, front: dispatcher.front, through: through, bind: { decoded in
                let prepared = dispatcher.binder.bind(&decoded)
                dispatcher.apply(prepared)
                return prepared
            }, handOver: { worker.channel.send($0) })
        } catch {
            _ = worker.finish()
            throw error
        }
        dispatcher.front = front
        dispatcher.finishReading()
        dispatcher.replays += worker.finish().replays
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
        let worker = mine < profiles.count ? BatchWorker(start(Array(profiles[mine...]))) { $0.apply($1) } : nil
        let front: ReplayFrontEnd
        do {
            front = try bindInBatches(reader, front: binding.front, through: nil, bind: { binding.binder.bind(&$0) },
                                      handOver: { batch in
                worker?.channel.send(batch)
                groups.apply(batch)
            })
        } catch {
            _ = worker?.finish()
            throw error
        }
        binding.front = front
        binding.finishReading()
        let all = groups.groups + (worker?.finish().groups ?? [])
        binding.replays = all.replays(in: profiles)
        return (binding, all.map(\.members))
    }
}

extension Replay {
    /// Reads `reader`, binds each event on the calling thread (`bind`) and
    /// hands the bound events on in batches of `size` events, the last one
    /// too, also when the reader fails (its error is rethrown after).
    /// Returns the front end as it ended.
    static func bindInBatches(_ reader: some TraceReader, front: ReplayFrontEnd, through: Int?,
                              batch size: Int = splitBatch,
                              bind: (inout DecodedEvent) -> PreparedEvent,
                              handOver: ([PreparedEvent]) -> Void) throws -> ReplayFrontEnd {
        var batch: [PreparedEvent] = []
        batch.reserveCapacity(size)
        defer { handOver(batch) }
        return try ReplayPipeline.run(
            reader, options: ReadOptions(fields: ReplayFrontEnd.fields, keepRawText: false),
            front: front, through: through) { decoded in
            batch.append(bind(&decoded))
            if batch.count == size {
                handOver(batch)
                batch = []
                batch.reserveCapacity(size)
            }
        }
    }
}

/// A worker thread that applies the batches of bound events it is sent, in
/// order, to a state of its own (a dispatcher, or profile groups).
private final class BatchWorker<State>: @unchecked Sendable {
    let channel = BatchChannel<PreparedEvent>(capacity: RecordPipeline.batchesInFlight)
    private let done = DispatchSemaphore(value: 0)
    /// Written by the worker only, read after `done`.
    private var state: State

    init(_ state: State, apply: @escaping @Sendable (inout State, [PreparedEvent]) -> Void) {
        self.state = state
        DispatchQueue.global().async { [self] in
            var s = self.state
            while let batch = channel.receive() { apply(&s, batch) }
            self.state = s
            done.signal()
        }
    }

    /// Waits until the worker applied every batch sent; its state.
    func finish() -> State {
        channel.finish()
        done.wait()
        return state
    }
}
