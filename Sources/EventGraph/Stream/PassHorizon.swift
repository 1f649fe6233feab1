import TraceIO

/// Where a later pass of `StreamedCausalChain` may stop reading: the last
/// event at which the stream found an edge into the events it keeps, or into
/// any earlier event (such an edge can move a kept event's task anchor).
///
/// While a pass runs it cannot tell that no such edge is still to come: an
/// edge into an event is found at its effect or later (the completion's edge
/// into the conversion work it queued is found when that work converts, which
/// on a trace that lost events may be never). The first pass reads the whole
/// trace and notes, per block of stream indices, the last event at which an
/// edge into the block was found. The stream is deterministic, so a later
/// pass keeping events before `end` has found every edge it needs by the
/// last such event of the blocks up to `end`, and what it reads after that
/// changes nothing it keeps.
struct PassHorizon: Sendable {
    /// At most this many blocks: when the trace outgrows them, neighbouring
    /// blocks merge (twice the events each), so the horizon is as fine as a
    /// 4096th of the trace read so far, in 32 KB.
    static let maxBlocks = 4096
    /// Each block holds 2^`blockShift` stream indices.
    private(set) var blockShift = 0
    /// Per block: the last event at which an edge into it was found, -1 for none.
    private var lastFound: [Int] = []

    /// Edge `e`, found at event `now` (events come in stream order).
    mutating func found(_ e: Edge, at now: Int) {
        while e.to >> blockShift >= Self.maxBlocks { mergeBlocks() }
        let block = e.to >> blockShift
        if block >= lastFound.count { lastFound += repeatElement(-1, count: block - lastFound.count + 1) }
        lastFound[block] = now
    }

    private mutating func mergeBlocks() {
        lastFound = stride(from: 0, to: lastFound.count, by: 2).map { k in
            max(lastFound[k], k + 1 < lastFound.count ? lastFound[k + 1] : -1)
        }
        blockShift += 1
    }

    /// The last event a pass keeping events before `end` must read.
    func lastEventNeeded(keepingBefore end: Int) -> Int {
        var last = end - 1
        let blocks = min(lastFound.count, (max(end, 1) - 1) >> blockShift + 1)
        for block in 0..<blocks { last = max(last, lastFound[block]) }
        return last
    }
}

/// What only a pass over the whole trace tells, kept from the first pass of
/// a search for the passes that stop early.
struct WholeTraceFacts: Sendable {
    let events: Int
    /// Edges whose cause is later in the stream than their effect.
    let backwardEdges: Int
    /// Each task's name as the whole pass learnt it (a task may be named
    /// only after a later pass stops).
    let comms: [Int32: String]
    let horizon: PassHorizon
}

/// A pass's decoding (`GraphDecoding`), ending the reading after event
/// `through` when one is given.
struct PassDecoding: RecordTransform {
    var graph: GraphDecoding
    let through: Int?

    mutating func transform(_ record: TraceRecordView) throws -> GraphInput? {
        if let through, graph.events > through { throw RecordPipeline.Stop() }
        return graph.transform(record)
    }
}
