/// Why one event happened before another.
public enum EdgeKind: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    /// Consecutive events of one task (the idle task per CPU).
    case programOrder
    /// `sys_enter_X` → `sys_exit_X` of one task.
    case syscall
    /// A kernel function's start → end tracepoints on one task
    /// (writepages, da_write_folios = one io_end, map_blocks, sync_file, truncate, fallocate).
    case span
    /// `workqueue_queue_work` → `activate` → `execute_start` → `execute_end` of one work item.
    case work
    /// `block_bio_queue` → `block_rq_insert` → `block_rq_issue` → `block_rq_complete`
    /// of the same sectors (flushes paired by issue order).
    case blockIO
    /// An unwritten extent mapped for I/O (PRE_IO) → the bio that carries its data.
    case extentBio
    /// The extent mapped for I/O → the CONVERT that makes it written.
    case extentConversion
    /// The completion of the bio carrying the data → the CONVERT of that data,
    /// and → the `queue_work` of the conversion work it queued (the last
    /// completion before the queueing: later io_ends join the queued list).
    case bioConversion
    /// CONVERT → `ext4_es_insert_extent` status W of that range.
    case conversionWritten
    /// `jbd2_start_commit` → … → `jbd2_end_commit` of one transaction.
    case commit
    /// `sched_wakeup(pid)` → the `sched_switch` onto that pid.
    case wakeup

    /// Stable snake_case name used in JSON and DOT output.
    public var name: String {
        switch self {
        case .programOrder: return "program_order"
        case .syscall: return "syscall"
        case .span: return "span"
        case .work: return "work"
        case .blockIO: return "block_io"
        case .extentBio: return "extent_bio"
        case .extentConversion: return "extent_conversion"
        case .bioConversion: return "bio_conversion"
        case .conversionWritten: return "conversion_written"
        case .commit: return "commit"
        case .wakeup: return "wakeup"
        }
    }

    public var description: String { name }
}

/// Kinds of kernel objects the graph identifies.
public enum ObjectKind: String, CaseIterable, Sendable {
    case inode, folio, ioEnd = "io_end", extent, conversion, bio, request, flush
    case workItem = "work_item", syscall, transaction
}

/// Kinds of events that should have a partner earlier in the trace.
public enum UnlinkedKind: String, CaseIterable, Sendable {
    /// A CONVERT with no extent mapped for I/O before it, or whose data bio
    /// was never seen completing.
    case conversion
    /// `workqueue_execute_start` without its queueing, or `execute_end` without its start.
    case workExecution = "work_execution"
    /// `block_rq_complete` / `block_bio_complete` without the I/O it completes.
    case bioCompletion = "bio_completion"
    /// An extent mapped for I/O whose bio never shows.
    case extentSubmission = "extent_submission"
    /// `sys_exit_X` without its `sys_enter_X`.
    case syscallExit = "syscall_exit"
}

/// Why an event has no partner.
public enum UnlinkedReason: String, Sendable {
    /// The ring buffer dropped or overwrote events before this one.
    case lostEvents = "lost_events"
    /// The object's story began before the recording did (first sighting of
    /// the work item, task or sectors).
    case traceStart = "trace_start"
    /// The partner would come after the recording stopped.
    case traceEnd = "trace_end"
    /// Nothing in the trace explains it.
    case unexplained
}

/// One event that could not be linked, and why.
public struct UnlinkedEvent: Hashable, Sendable {
    public var kind: UnlinkedKind
    public var node: Int
    public var reason: UnlinkedReason
    public var detail: String

    public init(kind: UnlinkedKind, node: Int, reason: UnlinkedReason, detail: String) {
        self.kind = kind
        self.node = node
        self.reason = reason
        self.detail = detail
    }

    public var isExplained: Bool { reason != .unexplained }
}
