import Dispatch
import Synchronization
import TraceIO

/// Reading and decoding on one thread; the event graph's binding and the
/// model on another: a replay is about half each, so on two cores `check`
/// runs nearly twice as fast as doing both in turn. Batches keep the hand-over cheap; the channel holds a
/// few of them, so memory stays bounded whatever the trace's size.
enum ReplayPipeline {
    static let batchSize = 4096
    static let batchesInFlight = 8

    /// Streams `reader` through `front` on a worker thread and hands each
    /// decoded event to `consume` on the calling thread, in trace order, in
    /// place in its batch (`consume` may move what it holds out of it).
    /// With `through`, reading stops after the event of that index: a
    /// replay that wants only a prefix of the trace does not read the rest.
    /// Returns the front end's final state; rethrows the reader's error
    /// after the events read before it were consumed.
    static func run(_ reader: some TraceReader, options: ReadOptions, front: ReplayFrontEnd, through: Int? = nil,
                    consume: (inout DecodedEvent) -> Void) throws -> ReplayFrontEnd {
        let channel = BatchChannel<DecodedEvent>(capacity: batchesInFlight)
        let producer = Producer(reader: reader, front: front)
        DispatchQueue.global().async {
            var batch: [DecodedEvent] = []
            batch.reserveCapacity(batchSize)
            // A local copy while reading: the producer's own property, a
            // class's, had every event pay a dynamic exclusivity check.
            var front = producer.front
            do {
                try producer.reader.forEachView(options) { record in
                    guard let decoded = front.decode(record) else { return }
                    if let through, decoded.stamp.index > through { throw PrefixRead() }
                    batch.append(decoded)
                    if batch.count == batchSize {
                        channel.send(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                channel.send(batch)
            } catch is PrefixRead {
                channel.send(batch)
            } catch {
                channel.send(batch)
                producer.error = error
            }
            producer.front = front
            channel.finish()
        }
        while var batch = channel.receive() {
            // In place: a `for … in batch` (or passing `events[i]`) copies
            // every event out and retains what it holds before the batch
            // releases it again.
            batch.withUnsafeMutableBufferPointer { events in
                for i in events.indices { consume(&events[i]) }
            }
        }
        // finish() happened after the producer's last write, and receive()
        // returned nil only after it: the producer's state is complete.
        if let error = producer.error { throw error }
        return producer.front
    }

    /// Thrown out of the reader's loop once the wanted prefix is read.
    private struct PrefixRead: Error {}

    /// What the producing thread owns until it finishes.
    private final class Producer<Reader: TraceReader>: @unchecked Sendable {
        let reader: Reader
        var front: ReplayFrontEnd
        var error: (any Error)?

        init(reader: Reader, front: ReplayFrontEnd) {
            self.reader = reader
            self.front = front
        }
    }
}

/// A bounded single-producer, single-consumer queue of batches.
final class BatchChannel<Element: Sendable>: Sendable {
    private let slots: DispatchSemaphore
    private let items = DispatchSemaphore(value: 0)
    private let queue = Mutex<(batches: [[Element]], head: Int)>(([], 0))

    init(capacity: Int) {
        slots = DispatchSemaphore(value: capacity)
    }

    func send(_ batch: [Element]) {
        guard !batch.isEmpty else { return }
        slots.wait()
        queue.withLock { $0.batches.append(batch) }
        items.signal()
    }

    /// No more batches: `receive` returns nil once the queue is drained.
    func finish() {
        items.signal()
    }

    func receive() -> [Element]? {
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
