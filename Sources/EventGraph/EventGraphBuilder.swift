import KernelEvents
import TraceIO

/// Builds an `EventGraph` from a stream of trace records in one pass, in
/// time and memory linear in the number of events: each event is decoded,
/// reduced to a few numbers (`NodeColumns`) and dropped; objects live in
/// compact records. Links that need the device geometry (extent → bio) are
/// resolved in `finish()`, once the whole trace has shown the geometry.
public struct EventGraphBuilder {
    var decoder = KernelEventDecoder()
    var nodes = NodeColumns()
    var edges = EdgeColumns()
    var unlinked: [UnlinkedEvent] = []
    var diagnostics = DiagnosticLog()

    // Interned tables.
    var nameTable: [String] = []
    var nameCodes: [String: UInt16] = [:]
    var functionTable: [String] = []
    var functionCodes: [String: Int32] = [:]
    var inodeTable: [InodeID] = []
    var inodeCodes: [InodeID: Int32] = [:]
    var generations = InodeGenerations()
    var comms: [Int32: String] = [:]

    // Task chains: pid, or (0, cpu) for the per-CPU idle tasks.
    var chainCodes: [Int64: Int32] = [:]
    var chainLengths: [Int32] = []
    var chainPids: [Int32] = []

    // Losses.
    var lostMarkers: [LostEvents] = []
    var firstLostNode: Int32 = .max
    var lastLostNode: Int32 = -1
    /// The file says events were dropped or overwritten (metadata), so any
    /// event may lack its partner.
    public var lossBeforeStart = false

    // Per-kind state lives in the extensions' stores.
    var syscalls = SyscallState()
    var spans: [SpanKey: [Int32]] = [:]
    var work = WorkState()
    var block = BlockState()
    var extents = ExtentState()
    var geometry = GeometryEstimator()
    var commits: [CommitKey: Int32] = [:]
    var transactions = 0
    var wakeups: [Int32: Int32] = [:]
    var folioOrders: [FolioKey: UInt8] = [:]
    var ioEnds = 0
    var fsDevices: Set<DeviceNumber> = []
    var bdiDevices: [String: (dev: DeviceNumber, found: Bool, at: Int32)] = [:]

    public init(expectedEvents: Int = 0) {
        if expectedEvents > 0 { nodes.reserve(expectedEvents) }
    }

    /// Adds one record of the stream, in the reader's order.
    public mutating func add(_ record: TraceRecord) {
        switch record {
        case .event(let e): add(e)
        case .lost(let lost):
            lostMarkers.append(lost)
            if firstLostNode == .max { firstLostNode = Int32(nodes.count) }
            lastLostNode = Int32(nodes.count)
        }
    }

    public mutating func add(_ event: TraceEvent) {
        // Node indices are 32-bit to halve the graph's memory.
        guard nodes.count < Int(Int32.max) else {
            diagnostics.warn(event.name, "more than 2^31 events: the rest of the trace is not in the graph")
            return
        }
        let node = Int32(nodes.count)
        nodes.timestamps.append(event.timestamp)
        nodes.cpus.append(UInt16(truncatingIfNeeded: event.cpu))
        nodes.pids.append(event.pid)
        nodes.names.append(nameCode(event.name))
        nodes.inodes.append(.none)
        nodes.details.append(0)
        appendToChain(node, pid: event.pid, cpu: event.cpu)
        if comms[event.pid] == nil || comms[event.pid] == "<...>" { comms[event.pid] = event.comm }

        switch decoder.decode(event) {
        case .ext4(let e): handleExt4(e, node)
        case .writeback(let e): handleWriteback(e, node)
        case .filemap(let e): handleFilemap(e, node)
        case .block(let e): handleBlock(e, node)
        case .workqueue(let e): handleWork(e, node)
        case .jbd2(let e): handleJBD2(e, node)
        case .sched(let e): handleSched(e, node)
        case .syscall(let e): handleSyscall(e, node)
        case .other: break
        }
    }

    // MARK: tables

    mutating func nameCode(_ name: String) -> UInt16 {
        if let c = nameCodes[name] { return c }
        guard nameTable.count < Int(UInt16.max) else { return UInt16.max }
        let c = UInt16(nameTable.count)
        nameTable.append(name)
        nameCodes[name] = c
        return c
    }

    mutating func functionCode(_ name: String) -> Int32 {
        if let c = functionCodes[name] { return c }
        let c = Int32(functionTable.count)
        functionTable.append(name)
        functionCodes[name] = c
        return c
    }

    mutating func inodeCode(_ id: InodeID) -> Int32 {
        if let c = inodeCodes[id] { return c }
        let c = Int32(inodeTable.count)
        inodeTable.append(id)
        inodeCodes[id] = c
        return c
    }

    /// Resolves an inode reference to its current generation and tags `node` with it.
    @discardableResult
    mutating func tag(_ node: Int32, _ ref: InodeRef, detail: UInt64 = 0) -> Int32 {
        let code = inodeCode(generations.resolve(ref))
        nodes.inodes[Int(node)] = code
        nodes.details[Int(node)] = detail
        return code
    }

    mutating func appendToChain(_ node: Int32, pid: Int32, cpu: Int) {
        let key = pid == 0 ? Int64(cpu) | (1 << 40) : Int64(pid)
        let chain: Int32
        if let c = chainCodes[key] {
            chain = c
        } else {
            chain = Int32(chainLengths.count)
            chainCodes[key] = chain
            chainLengths.append(0)
            chainPids.append(pid)
        }
        nodes.chains.append(chain)
        nodes.positions.append(chainLengths[Int(chain)])
        chainLengths[Int(chain)] += 1
    }

    /// The reason an event at `node` lacks a partner that should precede it,
    /// given whether the object was seen before (`firstSighting`).
    func reason(_ node: Int32, firstSighting: Bool) -> UnlinkedReason {
        if lossBeforeStart || firstLostNode <= node { return .lostEvents }
        return firstSighting ? .traceStart : .unexplained
    }

    mutating func addUnlinked(_ kind: UnlinkedKind, _ node: Int32, firstSighting: Bool, _ detail: String) {
        unlinked.append(UnlinkedEvent(kind: kind, node: Int(node), reason: reason(node, firstSighting: firstSighting), detail: detail))
    }
}

extension EventGraphBuilder {
    /// A builder for a trace whose file says it lost events (per-CPU stats, or a
    /// text header whose entries-written exceed entries-in-buffer): its unlinked
    /// events may be explained by that loss.
    public init(expectedEvents: Int = 0, metadata: TraceMetadata) {
        self.init(expectedEvents: expectedEvents)
        let overwritten = (metadata.entriesWritten ?? 0) > (metadata.entriesInBuffer ?? metadata.entriesWritten ?? 0)
        lossBeforeStart = metadata.lostByCPU.values.contains { $0 > 0 } || overwritten
    }
}

/// Builds the graph of a whole trace from any reader.
extension EventGraph {
    public static func build(from reader: some TraceReader, expectedEvents: Int = 0) throws -> EventGraph {
        var builder = EventGraphBuilder(expectedEvents: expectedEvents, metadata: reader.metadata)
        try reader.forEach(ReadOptions(fields: .named(KernelEventDecoder.fieldsUsed), keepRawText: false)) { builder.add($0) }
        return builder.finish()
    }
}

extension EventGraph {
    /// Builds the graph of records already in memory (benchmarks, tests,
    /// filtered streams).
    public static func build(records: some Sequence<TraceRecord>, expectedEvents: Int = 0, lossBeforeStart: Bool = false) -> EventGraph {
        var builder = EventGraphBuilder(expectedEvents: expectedEvents)
        builder.lossBeforeStart = lossBeforeStart
        for r in records { builder.add(r) }
        return builder.finish()
    }
}
