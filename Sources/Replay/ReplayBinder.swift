import EventGraph
import KernelEvents
import TraceIO

/// An event as the reading thread hands it to the model's thread: where it
/// sits, who ran it, and its typed form (or, of an untyped event, what the
/// model reads of it); not yet bound by the event graph.
struct DecodedEvent: Sendable {
    var stamp: Stamp
    /// The typed event; nil for an event the replay does not type.
    var typed: KernelEvent?
    /// Of an untyped event, what the model reads (`ReplayFrontEnd.untyped`).
    var untyped: ReplayEvent?
    /// The last lost-events record between the previous event and this one.
    var lostBefore: LostEvents?
}

/// The event graph's part of a replay (`GraphStream`): binds each decoded
/// event to its kernel objects and finds its happens-before edges, in trace
/// order, on the model's thread.
///
/// Why there: reading, the ordered merge of the pages and typing made the
/// reading thread's share of `check` nearly twice the model's; with the
/// binding on the model's side the two threads of `ReplayPipeline` take
/// about the same time.
struct ReplayBinder: Sendable {
    var graph: GraphStream

    init(metadata: TraceMetadata) {
        graph = GraphStream(countsObjects: false, keepsUnlinked: false, metadata: metadata)
    }

    /// Binds `decoded` (its typed event is moved out, not copied) and
    /// returns the event as the model consumes it.
    mutating func bind(_ decoded: inout DecodedEvent) -> PreparedEvent {
        if let lost = decoded.lostBefore { graph.lost(lost) }
        let stamp = decoded.stamp
        guard let typed = decoded.typed.take() else {
            _ = graph.add(stamp.stream, nil)
            var prepared = PreparedEvent(stamp: stamp, event: decoded.untyped.take() ?? .other(syncDevice: nil))
            prepared.lostBefore = decoded.lostBefore
            return prepared
        }
        let links = graph.add(stamp.stream, typed)
        var prepared = PreparedEvent(stamp: stamp, event: ReplayFrontEnd.slim(typed, stamp.name),
                                     links: ReplayLinks(inode: links.inode, binding: ReplayBinding(links.binding)),
                                     edges: graph.takeEdges())
        prepared.lostBefore = decoded.lostBefore
        return prepared
    }

    /// Lost-events records after the last event.
    mutating func finish(pendingLost: LostEvents?) {
        if let lost = pendingLost { graph.lost(lost) }
    }
}
