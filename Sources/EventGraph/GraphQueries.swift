import KernelEvents
import TraceIO

extension EventGraph {
    public var eventCount: Int { nodes.count }

    public func contains(event i: Int) -> Bool { i >= 0 && i < nodes.count }

    /// Event `i`; `i` must be in `0..<eventCount` (check user input with `contains`).
    public func node(_ i: Int) -> EventNode {
        let code = nodes.inodes[i]
        let pid = nodes.pids[i]
        return EventNode(index: i, timestamp: nodes.timestamps[i], cpu: Int(nodes.cpus[i]), pid: pid,
                         comm: comms[pid] ?? "", name: eventName(i),
                         inode: code >= 0 ? inodeTable[Int(code)] : nil, detail: nodes.details[i])
    }

    public func eventName(_ i: Int) -> String {
        let code = Int(nodes.names[i])
        return code < nameTable.count ? nameTable[code] : "?"
    }

    public func timestamp(_ i: Int) -> UInt64 { nodes.timestamps[i] }

    /// The inode object of event i, if it names one.
    public func inode(of i: Int) -> InodeID? {
        let code = nodes.inodes[i]
        return code >= 0 ? inodeTable[Int(code)] : nil
    }

    /// Every inode object, generations apart.
    public var inodes: [InodeID] { inodeTable }

    /// The previous event of the same task (program order).
    public func programPredecessor(of i: Int) -> Int? {
        let pos = Int(nodes.positions[i])
        guard pos > 0 else { return nil }
        return Int(chainNodes[Int(chainOffsets[Int(nodes.chains[i])]) + pos - 1])
    }

    public func programSuccessor(of i: Int) -> Int? {
        let c = Int(nodes.chains[i])
        let at = Int(chainOffsets[c]) + Int(nodes.positions[i]) + 1
        return at < Int(chainOffsets[c + 1]) ? Int(chainNodes[at]) : nil
    }

    /// Explicit edges into event i (program order excluded).
    public func incoming(_ i: Int) -> [Edge] {
        inEdges[Int(inOffsets[i])..<Int(inOffsets[i + 1])].map { edge(Int($0)) }
    }

    /// Explicit edges out of event i (program order excluded).
    public func outgoing(_ i: Int) -> [Edge] {
        outEdges[Int(outOffsets[i])..<Int(outOffsets[i + 1])].map { edge(Int($0)) }
    }

    func edge(_ e: Int) -> Edge {
        Edge(from: Int(edgeSources[e]), to: Int(edgeTargets[e]), kind: EdgeKind(rawValue: edgeKinds[e]) ?? .programOrder)
    }

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
