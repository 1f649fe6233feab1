import KernelEvents
import TraceIO

/// One event of the graph, as the queries report it.
public struct EventNode: Hashable, Sendable {
    /// Position in the trace's event stream (0-based), the node's identity.
    public var index: Int
    public var timestamp: UInt64
    public var cpu: Int
    public var pid: Int32
    public var comm: String
    public var name: String
    public var inode: InodeID?
    /// lblk, sector, page index, transaction, work address or pid, by event kind.
    public var detail: UInt64
}

/// A happens-before edge.
public struct Edge: Hashable, Sendable {
    public var from: Int
    public var to: Int
    public var kind: EdgeKind

    public init(from: Int, to: Int, kind: EdgeKind) {
        self.from = from
        self.to = to
        self.kind = kind
    }
}

/// One work item: a queueing of a work struct and its execution.
public struct WorkItem: Hashable, Sendable {
    public var key: WorkKey
    public var queued: Int?
    public var activated: Int?
    public var started: Int?
    public var ended: Int?
}

/// A CONVERT and what it is linked to.
public struct ConversionLink: Hashable, Sendable {
    /// The `ext4_ext_handle_unwritten_extents` CONVERT event.
    public var conversion: Int
    public var inode: InodeID
    public var extent: ExtentRange
    /// The events that mapped the extent for I/O (PRE_IO, unwritten).
    public var submissions: [Int]
    /// `block_bio_queue` of the bios that carried its data.
    public var bios: [Int]
    /// Their completions, before the conversion.
    public var completions: [Int]
    /// Index into `EventGraph.workItems` of the work that ran it; nil when inline.
    public var workItem: Int?
    /// `ext4_es_insert_extent` status W that followed.
    public var written: Int?

    public var isLinked: Bool { !submissions.isEmpty && !completions.isEmpty }
}

/// Counts of unlinked events of one kind.
public struct UnlinkedCount: Hashable, Sendable {
    public var explained: Int = 0
    public var unexplained: Int = 0
    public var byReason: [UnlinkedReason: Int] = [:]
    public var total: Int { explained + unexplained }
}

/// What `wbreplay stats` reports about the graph.
public struct GraphSummary: Sendable {
    public var events: Int
    public var objects: [ObjectKind: Int]
    public var edges: [EdgeKind: Int]
    /// Every `UnlinkedKind`, zero when nothing is unlinked.
    public var unlinked: [UnlinkedKind: UnlinkedCount]
    public var geometries: [DeviceGeometry]
    public var diagnostics: [Diagnostic]
    /// Approximate memory the graph holds, in bytes.
    public var bytes: Int
}
