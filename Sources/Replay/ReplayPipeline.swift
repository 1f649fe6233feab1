import TraceIO

/// Reading and decoding on one thread; the event graph's binding and the
/// model on another (`RecordPipeline`): a replay is about half each, so on
/// two cores `check` runs nearly twice as fast as doing both in turn.
enum ReplayPipeline {
    /// Streams `reader` through `front` on a worker thread and hands each
    /// decoded event to `consume` on the calling thread, in trace order, in
    /// place in its batch (`consume` may move what it holds out of it).
    /// With `through`, reading stops after the event of that index: a
    /// replay that wants only a prefix of the trace does not read the rest.
    /// Returns the front end's final state; rethrows the reader's error
    /// after the events read before it were consumed.
    static func run(_ reader: some TraceReader, options: ReadOptions, front: ReplayFrontEnd, through: Int? = nil,
                    consume: (inout DecodedEvent) -> Void) throws -> ReplayFrontEnd {
        try RecordPipeline.run(reader, options: options, transform: PrefixDecoding(front: front, through: through),
                               consume: consume).front
    }

    /// The front end's decoding, up to the event of index `through`.
    private struct PrefixDecoding: RecordTransform {
        var front: ReplayFrontEnd
        let through: Int?

        mutating func transform(_ record: TraceRecordView) throws -> DecodedEvent? {
            guard let decoded = front.decode(record) else { return nil }
            if let through, decoded.stamp.index > through { throw RecordPipeline.Stop() }
            return decoded
        }
    }
}
