import Dispatch
import Synchronization

/// What the reading thread of a `RecordPipeline` makes of each record: the
/// part of a command's work that needs the record's view (decoding, typing,
/// counting by format), ahead of the part that needs trace order and state
/// (the event graph's binding, the model).
public protocol RecordTransform {
    associatedtype Output: Sendable
    /// What to hand to the consuming thread for `record`; nil for nothing.
    /// Throw `RecordPipeline.Stop` to end the reading there (what was handed
    /// over before is still consumed).
    mutating func transform(_ record: TraceRecordView) throws -> Output?
}

/// Reading and the transform on one thread, the consumer on the calling
/// one: on two cores a command whose per-event work splits about evenly runs
/// nearly twice as fast as doing both in turn. Batches keep the hand-over
/// cheap; the channel holds a few of them, so memory stays bounded whatever
/// the trace's size.
///
/// Why `@inlinable`: `run` is generic over its callers' transforms, which
/// live in other modules; compiled once here, every record paid a runtime
/// metadata lookup (`Optional<Output>`) and copied and destroyed its output
/// through value witnesses — a tenth of `stats`' reading thread. Inlined, each
/// caller's module specializes it for its own output type. The reader is an
/// existential (one call per pass) so that a caller generic over its reader
/// still gets a fully specialized per-record loop.
public enum RecordPipeline {
    public static let batchSize = 4096
    public static let batchesInFlight = 8

    /// Ends the reading from inside a transform.
    public struct Stop: Error {
        public init() {}
    }

    /// Streams `reader` through `transform` on a worker thread and hands
    /// each output to `consume` on the calling thread, in the reader's
    /// order, in place in its batch (`consume` may move what it holds out of
    /// it). Returns the transform's final state; rethrows the reader's error
    /// after the outputs made before it were consumed.
    @inlinable
    public static func run<Transform: RecordTransform>(
        _ reader: any TraceReader, options: ReadOptions, transform: Transform,
        consume: (inout Transform.Output) -> Void
    ) throws -> Transform {
        let channel = BatchChannel<Transform.Output>(capacity: batchesInFlight)
        let producer = Producer(reader: reader, transform: transform)
        DispatchQueue.global().async {
            var batch: [Transform.Output] = []
            batch.reserveCapacity(batchSize)
            // A local copy while reading: the producer's own property, a
            // class's, had every record pay a dynamic exclusivity check.
            var transform = producer.transform
            do {
                try producer.reader.forEachView(options) { record in
                    guard let output = try transform.transform(record) else { return }
                    // Moved: appended as a copy, each output cost a retain and
                    // a release of all it holds, a tenth of `stats`' reading thread.
                    batch.append(consume output)
                    if batch.count == batchSize {
                        channel.send(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
            } catch is Stop {
            } catch {
                producer.error = error
            }
            channel.send(batch)
            producer.transform = transform
            channel.finish()
        }
        while var batch = channel.receive() {
            // In place: a `for … in batch` copies every output out and
            // retains what it holds before the batch releases it again.
            batch.withUnsafeMutableBufferPointer { outputs in
                for i in outputs.indices { consume(&outputs[i]) }
            }
        }
        // finish() happened after the producer's last write, and receive()
        // returned nil only after it: the producer's state is complete.
        if let error = producer.error { throw error }
        return producer.transform
    }

    /// What the reading thread owns until it finishes.
    @usableFromInline
    final class Producer<Transform: RecordTransform>: @unchecked Sendable {
        @usableFromInline let reader: any TraceReader
        @usableFromInline var transform: Transform
        @usableFromInline var error: (any Error)?

        @inlinable
        init(reader: any TraceReader, transform: Transform) {
            self.reader = reader
            self.transform = transform
        }
    }
}

/// A bounded single-producer, single-consumer queue of batches. Its methods
/// stay out of line (`RecordPipeline.run` inlines only the calls): they run
/// once per batch.
public final class BatchChannel<Element: Sendable>: Sendable {
    private let slots: DispatchSemaphore
    private let items = DispatchSemaphore(value: 0)
    private let queue = Mutex<(batches: [[Element]], head: Int)>(([], 0))

    public init(capacity: Int) {
        slots = DispatchSemaphore(value: capacity)
    }

    public func send(_ batch: [Element]) {
        guard !batch.isEmpty else { return }
        slots.wait()
        queue.withLock { $0.batches.append(batch) }
        items.signal()
    }

    /// No more batches: `receive` returns nil once the queue is drained.
    public func finish() {
        items.signal()
    }

    public func receive() -> [Element]? {
        items.wait()
        let batch: [Element]? = queue.withLock { q in
            guard q.head < q.batches.count else { return nil }
            let b = q.batches[q.head]
            q.batches[q.head] = []
            q.head += 1
            if q.head > 64 {
                q.batches.removeFirst(q.head)
                q.head = 0
            }
            return b
        }
        if batch != nil { slots.signal() }
        return batch
    }
}
