import KernelEvents
import TraceIO

/// One pass over a whole trace for `StreamedCausalChain`: every event goes
/// through the `GraphStream` (so edges and objects are the whole graph's),
/// and of the events in `windows` it keeps what the causal-chain search
/// reads (`CauseNode`) and what `why` prints (`EventNode`). Its memory
/// follows the windows, the live objects and the number of tasks, not the
/// length of the trace.
///
/// A kept event's previous anchor is its task's last event, so far, with an
/// edge from another task; an edge found later whose target is an earlier
/// event of the task (from the completion that queued a conversion work,
/// found when the work converts) moves it. Telling whether an edge comes
/// from another task needs the task of its cause: a ring holds the task
/// chain and position of the last `ringCapacity` events. An edge whose ends
/// have left the ring makes the anchors it could move unknown
/// (`PassNode.anchorUnknown`), never guessed.
struct CausalChainPass {
    static let ringCapacity = 1 << 21
    let ringCapacity: Int

    var stream: GraphStream
    /// Kept events: stream-index ranges, ascending and disjoint.
    let windows: [Range<Int>]
    private var window = 0
    /// The kept events' slots start, per window.
    private let windowStarts: [Int]
    private(set) var kept = KeptEvents()
    /// Kept events by chain, ascending slots.
    private var keptByChain: [Int32: [Int32]] = [:]

    private var chains = ChainTable()
    private var ring: [RingSlot] = []
    /// Per chain: the last anchor so far (stream index, position; -1 none),
    /// and the latest event that may be an anchor the ring could not tell.
    private var lastAnchor: [(index: Int, position: Int32)] = []
    private var unknownAnchor: [Int] = []
    /// The latest event of any chain that may be an anchor (its chain unknown).
    private var unknownAnchorAnyChain = -1

    private(set) var events = 0
    private(set) var backwardEdges = 0
    /// The first name of each task (not `<...>`), over the whole trace: the
    /// first pass's, given to a pass that stops early.
    private(set) var comms: [Int32: String] = [:]
    private let commsKnown: Bool
    /// The last event this pass reads; nil for the whole trace.
    let through: Int?
    private(set) var horizon = PassHorizon()
    private(set) var names: [String] = []
    private var nameCodes: [String: UInt16] = [:]
    private var inodes: [InodeID] = []
    private var inodeCodes: [InodeID: Int32] = [:]
    private var edgeSequence = 0

    struct RingSlot {
        var chain: Int32
        var position: Int32
    }

    /// A pass over the whole trace, or, given what the first one learnt,
    /// one that stops where nothing it keeps can change (`PassHorizon`).
    init(windows: [Range<Int>], ringCapacity: Int = Self.ringCapacity, metadata: TraceMetadata, whole: WholeTraceFacts? = nil) {
        self.windows = windows
        through = whole.map { $0.horizon.lastEventNeeded(keepingBefore: windows.last?.upperBound ?? 0) }
        comms = whole?.comms ?? [:]
        commsKnown = whole != nil
        var starts: [Int] = []
        var total = 0
        for w in windows { starts.append(total); total += w.count }
        windowStarts = starts
        self.ringCapacity = ringCapacity
        // Reserved, not grown: each doubling copied the ring (16 MB when
        // full) and the kept columns, and faulted their pages in again. A
        // reservation beyond what a short trace fills is never touched.
        ring.reserveCapacity(ringCapacity)
        kept.reserve(total)
        stream = GraphStream(keepHistory: false, countsObjects: false, keepsUnlinked: false, metadata: metadata)
    }

    /// The reading thread's half of a pass: names only for the kept events.
    var decoding: PassDecoding { PassDecoding(graph: GraphDecoding(names: .within(windows)), through: through) }

    /// What this pass, read through the whole trace, tells later ones.
    var wholeTraceFacts: WholeTraceFacts {
        precondition(through == nil, "a pass that stopped early")
        return WholeTraceFacts(events: events, backwardEdges: backwardEdges, comms: comms, horizon: horizon)
    }

    mutating func add(input: GraphInput) {
        switch input {
        case .lost(let lost): stream.lost(lost)
        case .event(let event):
            // The whole graph stops at 2^31 events (32-bit node numbers); so does this.
            guard events < Int(Int32.max) else { return }
            add(event)
        }
    }

    private mutating func add(_ event: GraphInputEvent) {
        let i = events
        events += 1
        let stamp = event.stamp
        if !commsKnown, let comm = event.comm { comms[stamp.pid] = comm }
        let links = stream.add(stamp, event.typed)
        let (chain, position) = chains.append(pid: stamp.pid, cpu: stamp.cpu)
        if ring.count < ringCapacity { ring.append(RingSlot(chain: chain, position: position)) }
        else { ring[i % ringCapacity] = RingSlot(chain: chain, position: position) }
        while lastAnchor.count <= Int(chain) {
            lastAnchor.append((-1, -1))
            unknownAnchor.append(-1)
        }
        if keeps(i) {
            let anchor = lastAnchor[Int(chain)]
            let doubt = max(unknownAnchor[Int(chain)], unknownAnchorAnyChain)
            keptByChain[chain, default: []].append(Int32(kept.count))
            kept.append(stamp, name: nameCode(event.name), inode: links.inode.map { inodeCode($0) } ?? -1, detail: links.detail,
                        chain: chain, position: position, anchor: anchor, anchorUnknown: doubt > anchor.index)
        }
        for e in stream.edgesFound { edge(e, at: i) }
        stream.forgetEdges()
    }

    /// Whether event `i` (the next of the stream) is in a window.
    private mutating func keeps(_ i: Int) -> Bool {
        while window < windows.count, windows[window].upperBound <= i { window += 1 }
        return window < windows.count && windows[window].contains(i)
    }

    private func slot(_ i: Int, at now: Int) -> RingSlot? {
        i <= now && now - i < ringCapacity ? ring[i % ringCapacity] : nil
    }

    /// The slot of kept event `i`, nil when no window holds it.
    func keptSlot(_ i: Int) -> Int? {
        var lo = 0, hi = windows.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if windows[mid].upperBound <= i { lo = mid + 1 } else { hi = mid }
        }
        guard lo < windows.count, windows[lo].contains(i), windowStarts[lo] + i - windows[lo].lowerBound < kept.count else { return nil }
        return windowStarts[lo] + i - windows[lo].lowerBound
    }

    private mutating func edge(_ e: Edge, at now: Int) {
        if e.from > e.to { backwardEdges += 1 }
        horizon.found(e, at: now)
        let to = slot(e.to, at: now), from = slot(e.from, at: now)
        if let k = keptSlot(e.to) { kept.addEdge(e, causeChain: from?.chain ?? -1, sequence: edgeSequence, to: k) }
        edgeSequence += 1
        guard let to else {
            // Which task the target belongs to is no longer known.
            unknownAnchorAnyChain = max(unknownAnchorAnyChain, e.to)
            doubtAnchors(after: e.to, in: nil)
            return
        }
        guard let from else {
            unknownAnchor[Int(to.chain)] = max(unknownAnchor[Int(to.chain)], e.to)
            doubtAnchors(after: e.to, in: to.chain)
            return
        }
        guard from.chain != to.chain else { return }
        let c = Int(to.chain)
        if e.to > lastAnchor[c].index { lastAnchor[c] = (e.to, to.position) }
        // Kept events of the task after the target, whose anchor was earlier: it moves.
        guard e.to < now, let list = keptByChain[to.chain] else { return }
        var k = firstAfter(e.to, in: list)
        while k < list.count, kept.anchor(Int(list[k])) < e.to {
            kept.setAnchor(Int(list[k]), to: e.to, position: to.position)
            k += 1
        }
    }

    /// Kept events after `index` (of chain `chain`, or of any) whose anchor
    /// is earlier than it: an anchor the ring cannot tell may lie between.
    private mutating func doubtAnchors(after index: Int, in chain: Int32?) {
        let lists = chain.map { keptByChain[$0].map { [$0] } ?? [] } ?? Array(keptByChain.values)
        for list in lists {
            var k = firstAfter(index, in: list)
            while k < list.count, kept.anchor(Int(list[k])) < index {
                kept.anchorUnknown[Int(list[k])] = true
                k += 1
            }
        }
    }

    /// The first of `list` (slots, ascending) whose event comes after `index`.
    private func firstAfter(_ index: Int, in list: [Int32]) -> Int {
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if kept.index(Int(list[mid])) <= index { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private mutating func inodeCode(_ id: InodeID) -> Int32 {
        if let c = inodeCodes[id] { return c }
        let c = Int32(inodes.count)
        inodes.append(id)
        inodeCodes[id] = c
        return c
    }

    private mutating func nameCode(_ name: String) -> UInt16 {
        if let c = nameCodes[name] { return c }
        let c = UInt16(truncatingIfNeeded: names.count)
        names.append(name)
        nameCodes[name] = c
        return c
    }

    /// Kept event `i` as the search reads it; nil when no window holds it.
    func causeNode(_ i: Int) -> PassNode? {
        guard let k = keptSlot(i) else { return nil }
        let columns = kept.nodes
        let pid = columns.pids[k], code = Int(columns.names[k]), inode = Int(columns.inodes[k])
        var n = PassNode(node: EventNode(index: i, timestamp: columns.timestamps[k], cpu: Int(columns.cpus[k]), pid: pid,
                                         comm: comms[pid] ?? "", name: code < names.count ? names[code] : "?",
                                         inode: inode >= 0 ? inodes[inode] : nil, detail: columns.details[k]),
                         chain: columns.chains[k], position: columns.positions[k],
                         anchor: kept.anchor(k) >= 0 ? (kept.anchor(k), kept.anchorPositions[k]) : nil,
                         anchorUnknown: kept.anchorUnknown[k])
        var e = kept.firstEdge[k]
        while e >= 0 {
            n.incoming.append(kept.edge(Int(e), to: i))
            n.causeChains.append(kept.edgeCauseChains[Int(e)])
            n.edgeSequence.append(kept.edgeSequences[Int(e)])
            e = kept.edgeNext[Int(e)]
        }
        return n
    }
}

/// The events a pass keeps, as the graph's columns and their anchors (about 60 bytes an event), and the
/// edges into them as lists. Stream indices are 32-bit, as the whole graph's
/// node numbers (a pass stops at 2^31 events), and an edge keeps its cause
/// and kind (its effect is the event it is listed under): a later pass keeps
/// up to 2^20 events.
struct KeptEvents {
    private var indices: [Int32] = []
    /// As the graph keeps them (`inodes`: the pass's inode codes).
    var nodes = NodeColumns()
    /// The task's previous anchor (-1: none) and its position.
    private var anchors: [Int32] = []
    private(set) var anchorPositions: [Int32] = []
    var anchorUnknown: [Bool] = []
    /// The first and last edge into each, -1 when none; each edge's next.
    private(set) var firstEdge: [Int32] = []
    private var lastEdge: [Int32] = []
    private var edgeCauses: [Int32] = []
    private var edgeKinds: [EdgeKind] = []
    private(set) var edgeCauseChains: [Int32] = []
    private(set) var edgeSequences: [Int] = []
    private(set) var edgeNext: [Int32] = []

    var count: Int { indices.count }

    /// The stream index of the event in slot `k`.
    func index(_ k: Int) -> Int { Int(indices[k]) }

    /// The previous anchor of the event in slot `k`; -1 when none.
    func anchor(_ k: Int) -> Int { Int(anchors[k]) }

    mutating func setAnchor(_ k: Int, to index: Int, position: Int32) {
        anchors[k] = Int32(index)
        anchorPositions[k] = position
    }

    /// Edge `id`, listed under the event of stream index `to`.
    func edge(_ id: Int, to: Int) -> Edge { Edge(from: Int(edgeCauses[id]), to: to, kind: edgeKinds[id]) }

    mutating func reserve(_ n: Int) {
        indices.reserveCapacity(n)
        nodes.reserve(n)
        anchors.reserveCapacity(n); anchorPositions.reserveCapacity(n); anchorUnknown.reserveCapacity(n)
        firstEdge.reserveCapacity(n); lastEdge.reserveCapacity(n)
    }

    mutating func append(_ stamp: StreamStamp, name: UInt16, inode: Int32, detail: UInt64, chain: Int32, position: Int32,
                         anchor: (index: Int, position: Int32), anchorUnknown unknown: Bool) {
        indices.append(Int32(stamp.index))
        nodes.append(stamp, name: name, inode: inode, detail: detail, chain: chain, position: position)
        anchors.append(Int32(anchor.index))
        anchorPositions.append(anchor.position)
        anchorUnknown.append(unknown)
        firstEdge.append(-1)
        lastEdge.append(-1)
    }

    /// Edge `e` into the event in slot `k`, after the ones found before it.
    mutating func addEdge(_ e: Edge, causeChain: Int32, sequence: Int, to k: Int) {
        let id = Int32(edgeCauses.count)
        edgeCauses.append(Int32(e.from))
        edgeKinds.append(e.kind)
        edgeCauseChains.append(causeChain)
        edgeSequences.append(sequence)
        edgeNext.append(-1)
        if lastEdge[k] >= 0 { edgeNext[Int(lastEdge[k])] = id } else { firstEdge[k] = id }
        lastEdge[k] = id
    }
}

/// An event a pass kept: what `why` prints of it and what the search reads.
struct PassNode {
    var node: EventNode
    var chain: Int32
    var position: Int32
    var anchor: (index: Int, position: Int32)?
    /// An edge whose ends had left the ring may make another event its anchor.
    var anchorUnknown: Bool
    /// Edges into it in the order the stream found them, the chain of each
    /// cause (-1: left the ring) and the edge's number in the stream.
    var incoming: [Edge] = []
    var causeChains: [Int32] = []
    var edgeSequence: [Int] = []
}
