import KernelEvents
import TraceIO

/// A record as the graph's consumers take it (`GraphSummaryCounter`,
/// `CausalChainPass`, `EventGraphBuilder`): typed on the reading thread of a
/// `RecordPipeline`, bound in the `GraphStream` on the other.
public enum GraphInput: Sendable {
    case event(GraphInputEvent)
    case lost(LostEvents)
}

public struct GraphInputEvent: Sendable {
    public var stamp: StreamStamp
    /// nil for an event the graph does not type.
    public var typed: KernelEvent?
    /// The event's name; empty where the decoding was asked for no name
    /// (`GraphDecoding.Names`), until the stream passes 2^31 events (the
    /// graph's warning names them).
    public var name: String
    /// The task's name where the stream first learns it (its first event
    /// whose name is not `<...>`); nil on the task's other events.
    public var comm: String?
}

/// The reading thread's half of the graph: types each event and numbers it
/// in the stream. What it keeps — the decoder's diagnostics — goes back to
/// the consumer after the pass (`RecordPipeline.run` returns it).
public struct GraphDecoding: RecordTransform, Sendable {
    public var decoder = KernelEventDecoder()
    public private(set) var events = 0
    /// Which events' names the consumer reads: `stats` none, an excerpt or a
    /// pass only those it keeps.
    public enum Names: Sendable {
        case none
        case all
        /// Of the events whose stream indices lie in these ranges (ascending, disjoint).
        case within([Range<Int>])
    }

    let names: Names
    /// With `.within`: the first range that does not end before the next event.
    private var range = 0
    /// The tasks whose names were handed over, `<...>` until a real one.
    private var comms: [Int32: String] = [:]
    /// The last pid whose name is known (not `<...>`): its events need not read theirs.
    private var namedPid: Int32 = -1

    /// The fields the graph's decoding reads.
    public static let options = ReadOptions(fields: .named(KernelEventDecoder.fieldsUsed), keepRawText: false)

    public init(names: Names) {
        self.names = names
    }

    public mutating func transform(_ record: TraceRecordView) -> GraphInput? {
        switch record {
        case .lost(let lost): return .lost(lost)
        case .event(let view): return .event(input(view))
        }
    }

    public mutating func input(_ view: EventView) -> GraphInputEvent {
        let stamp = StreamStamp(index: events, timestamp: view.timestamp, cpu: view.cpu, pid: view.pid)
        events += 1
        var comm: String?
        if view.pid != namedPid {
            let known = comms[view.pid]
            if known == nil || known == "<...>" {
                let name = view.comm
                if name != known {
                    comms[view.pid] = name
                    comm = name
                }
            }
            namedPid = comms[view.pid] == "<...>" ? -1 : view.pid
        }
        let name = readsName(stamp.index) || stamp.index >= Int(Int32.max) ? view.name : ""
        return GraphInputEvent(stamp: stamp, typed: decoder.decodeTyped(view), name: name, comm: comm)
    }

    private mutating func readsName(_ index: Int) -> Bool {
        switch names {
        case .none: return false
        case .all: return true
        case .within(let ranges):
            while range < ranges.count, ranges[range].upperBound <= index { range += 1 }
            return range < ranges.count && ranges[range].contains(index)
        }
    }
}
