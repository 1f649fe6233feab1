import KernelEvents
import TraceIO

extension EventGraph {
    /// Events in the trace (an excerpt holds fewer).
    public var eventCount: Int { bounds?.totalEvents ?? nodes.count }

    /// Whether event `i` is in the graph (in the trace, or in the excerpt).
    public func contains(event i: Int) -> Bool { i >= base && i - base < nodes.count }

    /// Event `i`; the graph must contain it (check user input with `contains`).
    public func node(_ i: Int) -> EventNode {
        let l = i - base
        let code = nodes.inodes[l]
        let pid = nodes.pids[l]
        return EventNode(index: i, timestamp: nodes.timestamps[l], cpu: Int(nodes.cpus[l]), pid: pid,
                         comm: comms[pid] ?? "", name: eventName(i),
                         inode: code >= 0 ? inodeTable[Int(code)] : nil, detail: nodes.details[l])
    }

    public func eventName(_ i: Int) -> String {
        let code = Int(nodes.names[i - base])
        return code < nameTable.count ? nameTable[code] : "?"
    }

    public func timestamp(_ i: Int) -> UInt64 { nodes.timestamps[i - base] }

    /// The inode object of event i, if it names one.
    public func inode(of i: Int) -> InodeID? {
        let code = nodes.inodes[i - base]
        return code >= 0 ? inodeTable[Int(code)] : nil
    }

    /// Every inode object, generations apart.
    public var inodes: [InodeID] { inodeTable }

    /// The previous event of the same task (program order).
    /// (In an excerpt: nil also when that event lies before the excerpt.)
    public func programPredecessor(of i: Int) -> Int? {
        let l = i - base
        let pos = Int(nodes.positions[l])
        guard pos > 0 else { return nil }
        return Int(chainNodes[Int(chainOffsets[Int(nodes.chains[l])]) + pos - 1]) + base
    }

    public func programSuccessor(of i: Int) -> Int? {
        let l = i - base
        let c = Int(nodes.chains[l])
        let at = Int(chainOffsets[c]) + Int(nodes.positions[l]) + 1
        return at < Int(chainOffsets[c + 1]) ? Int(chainNodes[at]) + base : nil
    }

    /// Explicit edges into event i (program order excluded).
    public func incoming(_ i: Int) -> [Edge] { incoming(local: i - base).map(global) }

    /// Explicit edges out of event i (program order excluded).
    public func outgoing(_ i: Int) -> [Edge] { outgoing(local: i - base).map(global) }

    /// The same between local nodes (`i - base`).
    func incoming(local l: Int) -> [Edge] {
        inEdges[Int(inOffsets[l])..<Int(inOffsets[l + 1])].map { edge(Int($0)) }
    }

    func outgoing(local l: Int) -> [Edge] {
        outEdges[Int(outOffsets[l])..<Int(outOffsets[l + 1])].map { edge(Int($0)) }
    }

    /// Edge `e` between local nodes.
    func edge(_ e: Int) -> Edge {
        Edge(from: Int(edgeSources[e]), to: Int(edgeTargets[e]), kind: EdgeKind(rawValue: edgeKinds[e]) ?? .programOrder)
    }

    /// A local edge in stream indices.
    func global(_ e: Edge) -> Edge { Edge(from: e.from + base, to: e.to + base, kind: e.kind) }

    /// Edges per kind, program order included (one per consecutive pair of a task's events).
    public var edgeCounts: [EdgeKind: Int] {
        var counts: [EdgeKind: Int] = [:]
        for k in EdgeKind.allCases { counts[k] = 0 }
        for k in edgeKinds { counts[EdgeKind(rawValue: k) ?? .programOrder, default: 0] += 1 }
        counts[.programOrder] = nodes.count - chainPids.count
        return counts
    }

    public var unlinkedCounts: [UnlinkedKind: UnlinkedCount] { unlinkedTotals }

    /// Approximate bytes held by the graph's arrays.
    public var approximateBytes: Int {
        nodes.byteSize + (edgeSources.capacity + edgeTargets.capacity) * 4 + edgeKinds.capacity
            + (inOffsets.capacity + inEdges.capacity + outOffsets.capacity + outEdges.capacity) * 4
            + (chainOffsets.capacity + chainNodes.capacity + anchorOffsets.capacity + anchorPositions.capacity) * 4
            + (ranks?.capacity ?? 0) * 4
    }

    public var summary: GraphSummary {
        GraphSummary(events: nodes.count, objects: objectCounts, edges: edgeCounts, unlinked: unlinkedCounts,
                     geometries: geometries, diagnostics: diagnostics, bytes: approximateBytes)
    }
}
