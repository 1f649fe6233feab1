import TraceIO

/// What a task is in the middle of. Kernel functions that sleep or drop locks
/// between steps are split into steps, because the seeds' races live between
/// those steps; the task's progress is part of the model state.
public enum TaskOperation: Hashable, Sendable {
    /// Between `ext4_da_write_begin` and `ext4_da_write_end` (folio locked,
    /// `i_mutex` and `sb_start_write` held).
    case bufferedWrite(FolioRef)
    /// `ext4_writepages` called by the flusher or a sync: only writeback.
    case writepages(InodeRef)
    case syncFile(SyncFileProgress)
    /// `ext4_setattr` shrinking i_size, or `ext4_punch_hole`.
    case removeBlocks(RemoveBlocksProgress)
    case evict(InodeRef, EvictStep)
    /// FIFREEZE: `freeze_super` until `ext4_freeze` completes.
    case freeze(DeviceNumber)
    /// FITHAW: `thaw_super` until `ext4_unfreeze` completes.
    case thaw(DeviceNumber)
}

public struct SyncFileProgress: Hashable, Sendable {
    public enum Step: UInt8, Hashable, Sendable {
        /// `file_write_and_wait_range`: writeback, then wait.
        case writeAndWait
        /// ≤3.7: `ext4_flush_completed_IO` / `ext4_flush_unwritten_io`.
        case flushCompletedIO
        /// 3.7: `ext4_unwritten_wait`.
        case unwrittenWait
        /// Journal commit and return.
        case commit
    }
    public var inode: InodeRef
    public var datasync: Bool
    public var step: Step
    /// Folios dirty when fsync started: their data is fsync's obligation.
    public var covered: Set<UInt64>
    /// io_ends not yet released when fsync started: also its obligation.
    public var preexisting: Set<Int>
}

public struct RemoveBlocksProgress: Hashable, Sendable {
    public enum Kind: UInt8, Hashable, Sendable { case truncate, punchHole }
    public enum Step: UInt8, Hashable, Sendable {
        /// `truncate_pagecache` / `truncate_pagecache_range`.
        case pagecache
        case flushCompletedIO
        case unwrittenWait
        /// `ext4_ext_remove_space`.
        case removeSpace
    }
    public var kind: Kind
    public var inode: InodeRef
    /// The blocks the removal touches: written back and waited on.
    public var range: BlockRange
    /// The blocks it frees, whose folios leave the page cache whole: a
    /// punch's partial blocks at either end are zeroed instead.
    public var freed: BlockRange
    public var step: Step

    public init(kind: Kind, inode: InodeRef, range: BlockRange, freed: BlockRange? = nil, step: Step) {
        self.kind = kind
        self.inode = inode
        self.range = range
        self.freed = freed ?? range
        self.step = step
    }
}

public enum EvictStep: UInt8, Hashable, Sendable {
    /// ≤3.10: `ext4_ioend_wait`.
    case ioendWait
    /// `truncate_inode_pages_final`: waits for writeback, drops the folios.
    case truncatePages
    /// `ext4_free_inode` / `destroy_inode`.
    case free
}

/// Where a writeback pass looks for dirty folios.
public enum WritebackScope: Hashable, Sendable {
    case inode(InodeRef)
    case device(DeviceNumber)
}

/// A task's position inside `ext4_writepages` (`ext4_do_writepages`): the
/// io_end being built, the folio it has locked, and the submitter's io_end
/// reference it still has to drop.
public struct WritebackCursor: Hashable, Sendable {
    public var scope: WritebackScope
    /// WB_SYNC_ALL waits for folios under writeback; WB_SYNC_NONE skips them.
    public var syncAll: Bool
    /// Only the folios with these indexes, in the inodes of the scope
    /// (fsync's TOWRITE tag over its one inode); nil: every dirty folio.
    /// Indexes, not folio refs: fsync tags the inode's dirty set as it is.
    public var toWrite: Set<UInt64>?
    public var ioEnd: IoEndRef?
    public var lockedFolio: FolioRef?
    /// ≥3.11: the submitter's reference on a submitted io_end.
    public var ownerReference: IoEndRef?
}

/// What a task is doing. Its two parts live in one copy-on-write box: the
/// model looks a task up on every step it takes (its footprint, its cursor),
/// and a dictionary's getter copies the value — one reference count, where
/// the parts themselves are a few hundred bytes with sets inside.
public struct TaskState: Hashable, Sendable {
    private var box: Box

    public init(operation: TaskOperation, writeback: WritebackCursor? = nil) {
        box = Box(operation: operation, writeback: writeback)
    }

    public var operation: TaskOperation {
        get { box.operation }
        set { makeUnique(); box.operation = newValue }
        _modify { makeUnique(); yield &box.operation }
    }

    public var writeback: WritebackCursor? {
        get { box.writeback }
        set { makeUnique(); box.writeback = newValue }
        _modify { makeUnique(); yield &box.writeback }
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&box) { box = Box(operation: box.operation, writeback: box.writeback) }
    }

    /// Mutated only while uniquely referenced (`makeUnique`), so sharing it
    /// between threads is sharing an immutable value.
    private final class Box: @unchecked Sendable {
        var operation: TaskOperation
        var writeback: WritebackCursor?

        init(operation: TaskOperation, writeback: WritebackCursor?) {
            self.operation = operation
            self.writeback = writeback
        }
    }

    public static func == (a: TaskState, b: TaskState) -> Bool {
        a.box === b.box || (a.operation == b.operation && a.writeback == b.writeback)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(operation)
        hasher.combine(writeback)
    }
}
