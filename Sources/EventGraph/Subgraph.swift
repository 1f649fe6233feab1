import KernelEvents
import TraceIO

/// Which part of the graph to render.
public enum GraphSelection: Sendable {
    case all
    /// The events of an inode number (every generation unless one is given,
    /// every device unless one is given), plus the bios, requests and work
    /// items linked to them.
    case inode(UInt64, dev: DeviceNumber? = nil, generation: UInt32? = nil)
    /// Exactly these events.
    case events([Int])
}

/// A rendered-ready piece of the graph: events in stream order and the
/// edges between them. Program order appears as one edge between
/// consecutive selected events of a task.
public struct Subgraph: Hashable, Sendable {
    public var nodes: [EventNode]
    public var edges: [Edge]

    public init(nodes: [EventNode], edges: [Edge]) {
        self.nodes = nodes
        self.edges = edges
    }

    /// With the program-order causes of a chain's steps that no edge of it
    /// already draws (a task's anchor several events back).
    func addingProgramOrderCauses(of chain: CausalChain) -> Subgraph {
        var s = self
        let explicit = Set(edges)
        for step in chain.steps {
            for cause in step.causes where cause.kind == .programOrder && !explicit.contains(cause) {
                s.edges.append(cause)
            }
        }
        return s
    }
}

extension EventGraph {
    public func subgraph(_ selection: GraphSelection) -> Subgraph {
        let selected: [Int]
        switch selection {
        case .all:
            selected = Array(0..<nodes.count)
        case .events(let list):
            selected = Set(list.filter { contains(event: $0) }.map { $0 - base }).sorted()
        case .inode(let ino, let dev, let generation):
            selected = inodeNeighbourhood(ino: ino, dev: dev, generation: generation)
        }
        return subgraph(nodes: selected)
    }

    /// The subgraph of the events of a causal chain.
    public func subgraph(_ chain: CausalChain) -> Subgraph {
        subgraph(nodes: chain.steps.map { $0.node - base }).addingProgramOrderCauses(of: chain)
    }

    func inodeNeighbourhood(ino: UInt64, dev: DeviceNumber?, generation: UInt32?) -> [Int] {
        let wanted = Set(inodeTable.indices.filter { i in
            let id = inodeTable[i]
            return id.ino == ino && (dev == nil || id.dev == dev) && (generation == nil || id.generation == generation)
        }.map(Int32.init))
        guard !wanted.isEmpty else { return [] }
        var inSet = [Bool](repeating: false, count: nodes.count)
        var stack: [Int] = []
        for i in 0..<nodes.count where wanted.contains(nodes.inodes[i]) {
            inSet[i] = true
            stack.append(i)
        }
        // Follow explicit edges into events about no inode (bios, work, flushes).
        while let x = stack.popLast() {
            for e in incoming(local: x) + outgoing(local: x) {
                let y = e.from == x ? e.to : e.from
                if !inSet[y], nodes.inodes[y] < 0 {
                    inSet[y] = true
                    stack.append(y)
                }
            }
        }
        return inSet.indices.filter { inSet[$0] }
    }

    /// The subgraph of local nodes `selected` (ascending), in stream indices.
    func subgraph(nodes selected: [Int]) -> Subgraph {
        let set = Set(selected)
        var edges: [Edge] = []
        var lastOfChain: [Int32: Int] = [:]
        for i in selected {
            let c = self.nodes.chains[i]
            if let prev = lastOfChain[c] { edges.append(Edge(from: prev + base, to: i + base, kind: .programOrder)) }
            lastOfChain[c] = i
            for e in outgoing(local: i) where set.contains(e.to) { edges.append(global(e)) }
        }
        return Subgraph(nodes: selected.map { node($0 + base) }, edges: edges)
    }
}
