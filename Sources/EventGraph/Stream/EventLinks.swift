import KernelEvents
import TraceIO

/// Where an event sits in the stream and who ran it: what the graph needs
/// besides the typed event.
public struct StreamStamp: Hashable, Sendable {
    /// Position in the trace's event stream (0-based; lost-events records do not count).
    public var index: Int
    public var timestamp: UInt64
    public var cpu: Int
    public var pid: Int32

    public init(index: Int, timestamp: UInt64, cpu: Int, pid: Int32) {
        self.index = index
        self.timestamp = timestamp
        self.cpu = cpu
        self.pid = pid
    }
}

/// A bio, named by the event that queued it (`block_bio_queue`); a bio whose
/// queueing was not recorded has no identity and is never bound.
public typealias BioID = Int

/// A work item: one queueing of a work struct (`workqueue_queue_work`), or
/// its execution when the queueing was not recorded. Named by that event.
public typealias WorkID = Int

/// A bio as the graph bound it when it was queued.
public struct BoundBio: Hashable, Sendable {
    public var id: BioID
    public var sectors: SectorRange
    /// The inode whose data the bio carries: the inode the queueing task was
    /// writing back (`ext4_writepages` … `ext4_writepages_result`, or one
    /// io_end's `ext4_da_write_folios_start/_end` / `ext4_da_write_pages`
    /// span), or whose extent the task mapped for these sectors (direct I/O).
    /// nil: a bio of no traced inode (journal, metadata, another file system).
    public var owner: InodeID?
    /// The file's blocks the bio carries, when the task mapped them inside
    /// its span and the file system's geometry is known: its sectors read
    /// back through that mapping. nil: the blocks were mapped before (the
    /// folios' buffers were already mapped) or the geometry is not known yet.
    public var blocks: BlockSpan?
    /// The owner's file-system block size, once the trace has shown it (the
    /// first extent mapped and then written by one task).
    public var blockSize: UInt64?
}

/// Logical blocks `[lblk, lblk + len)` of a file.
public struct BlockSpan: Hashable, Sendable, CustomStringConvertible {
    public var lblk: UInt64
    public var len: UInt64

    public init(lblk: UInt64, len: UInt64) {
        self.lblk = lblk
        self.len = len
    }

    public var end: UInt64 { lblk &+ len }
    public var description: String { "[\(lblk)+\(len))" }
}

/// One bio a completion finished: every one of its sectors has completed.
public struct CompletedBio: Hashable, Sendable {
    public var bio: BoundBio
    /// The completion's error (0: success; -5 EIO …). A request that failed
    /// fails every bio it carried.
    public var error: Int64
    /// The completion that reported the error, when the bio's sectors
    /// completed in several requests (this event, or an earlier one).
    public var failedBy: StreamStamp?
    /// A bio of a writeback pass (`ext4_end_bio` completes it), not direct I/O.
    public var writeback = false
}

/// Whose a conversion work item is. `ext4_end_io_rsv_work` runs the work
/// struct embedded in one inode (`i_rsv_conversion_work`, ≥3.11; the
/// io_end's own `work` before): its address names the inode while the inode
/// lives. Workqueue events are not filtered by device, so a work item of a
/// file system that was not traced must never be taken for a traced one.
public enum WorkOwner: Hashable, Sendable {
    /// The inode, and how the graph knows.
    case inode(InodeID, WorkEvidence)
    /// Nothing in the trace ties this work to a traced inode.
    case unknown
}

/// How the graph tied a work item to its inode.
public enum WorkEvidence: String, Hashable, Sendable {
    /// An ext4 event of the inode ran inside this execution (a CONVERT, the
    /// extent-status update, the end of the inode's writeback).
    case ranForInode = "ran_for_inode"
    /// It was queued in the irq handler right after a completion of a bio
    /// of that inode, on the same CPU (`ext4_end_bio` → `ext4_add_complete_io`).
    case queuedByCompletion = "queued_by_completion"
    /// The same work struct was seen working for that inode before, and the
    /// inode was not freed since.
    case sameWorkStruct = "same_work_struct"
}

/// A work item as the graph bound it.
public struct BoundWork: Hashable, Sendable {
    public var id: WorkID
    public var key: WorkKey
    public var owner: WorkOwner
}

/// What an event does to an object the graph tracks, as bound at that event.
public enum StreamBinding: Hashable, Sendable {
    case none
    /// `block_bio_queue`: a new bio.
    case bioQueued(BoundBio)
    /// `block_rq_issue`: the request carrying these bios went to the device.
    case bioIssued([BoundBio])
    /// `block_rq_complete` / `block_bio_complete`: these bios finished.
    case bioCompleted([CompletedBio])
    /// `workqueue_queue_work`.
    case workQueued(BoundWork)
    /// `workqueue_execute_start`.
    case workStarted(BoundWork)
    /// `workqueue_execute_end`; the owner as known at the end of the run.
    case workEnded(BoundWork)
    /// An ext4 event inside a work execution that first tied the work to
    /// its inode: the run started earlier belongs to this inode.
    case workOwnerLearned(BoundWork)
    /// `sys_exit_*`: the `sys_enter_*` event of the same call.
    case syscallReturned(enter: Int)
}

/// What the graph learned at one event.
public struct EventLinks: Sendable {
    /// The inode object the event names (generation resolved, writeback
    /// events' bdi resolved to the file system), nil for events about none.
    public var inode: InodeID?
    /// One number that identifies what the event touched: lblk for extent
    /// events, sector for block events, page index for folio events, the
    /// transaction for jbd2 events, the work address, the woken pid, a
    /// syscall's return value.
    public var detail: UInt64
    public var binding: StreamBinding

    public init(inode: InodeID? = nil, detail: UInt64 = 0, binding: StreamBinding = .none) {
        self.inode = inode
        self.detail = detail
        self.binding = binding
    }
}
