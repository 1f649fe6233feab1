import TraceIO

/// Why a transition cannot be taken in a state: what the kernel would block
/// on there (a lock, a wait, a freeze), or why the step makes no sense for
/// the objects named (the task is elsewhere, the object does not exist).
/// One case per kind of guard in the transition functions; the associated
/// values name the object that blocks and, where it matters, who holds it.
///
/// A value, not a message: a replay decides what to do about a refusal by
/// its case (`WritebackModel.force`), and its wording (`description(in:)`)
/// is built only when someone reads it.
public enum Blocker: Hashable, Sendable {
    // MARK: Tasks
    /// The task is inside another operation (one task, one operation).
    case taskBusy(task: Int)
    /// The task has no operation (`ext4_flush_completed_IO`, `ext4_unwritten_wait`).
    case taskIdle(task: Int)
    /// The task is not at the step of its operation that the transition
    /// continues (not in a write, not in writeback, not about to commit, …).
    case taskNotAtStep(task: Int)

    // MARK: File systems
    case noFileSystem(DeviceNumber)
    /// A freeze protection blocks: `sb_start_write`, `sb_start_pagefault`,
    /// the journal start, or `freeze_super` finding a freeze under way.
    case freezeBlocks(DeviceNumber, FreezeLevel, FreezeGate)
    /// `thaw_super`: the file system is not frozen.
    case notFrozen(DeviceNumber, FreezeLevel)
    /// `sb_wait_write`: a writer is still between `sb_start_write` and `sb_end_write`.
    case writerInside(DeviceNumber, task: Int)

    // MARK: Inodes
    case inodeMissing(InodeRef)
    /// The inode exists but is not live (new, evicting or freed).
    case inodeNotLive(InodeRef, InodeLifecycle)
    /// `ext4_new_inode`: the model still has this incarnation.
    case inodeExists(InodeRef, InodeLifecycle)
    /// `unlock_new_inode`: the inode is not I_NEW.
    case inodeNotNew(InodeRef)
    /// `ext4_evict_inode`: another task still has an operation on the inode
    /// or holds its `i_mutex`.
    case inodeReferenced(InodeRef)
    /// `i_mutex` / `inode_lock` is held by `holder`.
    case mutexHeld(InodeRef, holder: Int)
    /// ≤3.10 `ext4_ioend_wait`: `i_ioend_count` is not 0.
    case ioEndsPending(InodeRef)
    /// 3.7 `ext4_unwritten_wait`: `i_unwritten` is not 0.
    case unwrittenPending(InodeRef)
    /// `freeze_super`'s `flush_workqueue`: io_ends of the inode or its
    /// conversion work are still pending.
    case conversionsPending(InodeRef)

    // MARK: Folios
    case folioNotCached(FolioRef)
    /// `ext4_page_mkwrite`: the folio is cached but not uptodate (being read or written).
    case folioNotUptodate(FolioRef)
    /// `ext4_read_folio`: the folio is already cached.
    case folioCached(FolioRef)
    /// PG_locked, held by `holder`.
    case folioLocked(FolioRef, holder: ActorRef)
    /// PG_writeback: the folio's writeback has not ended.
    case folioUnderWriteback(FolioRef)
    /// PG_dirty (reclaim and freeze need clean folios).
    case folioDirty(FolioRef)
    /// Reclaim: the folio is mapped into an address space.
    case folioMapped(FolioRef)
    /// `zap_pte_range`: the folio is not mapped.
    case folioNotMapped(FolioRef)
    /// `ext4_page_mkwrite`: the PTE is already writable (no fault).
    case pteWritable(FolioRef)
    /// A store: the PTE is not writable (the store faults first).
    case pteNotWritable(FolioRef)

    // MARK: Writeback passes
    /// The task's writeback holds a locked folio or an io_end reference to
    /// finish first.
    case writebackMidFolio(task: Int)
    /// Writeback takes dirty folios in index order: `next` comes first.
    case notNextDirtyFolio(FolioRef, next: FolioRef?)
    /// The task's writeback pass still has folios to write or an io_end open.
    case writebackNotFinished(task: Int)
    case ioEndMissing(IoEndRef)
    /// `ext4_io_submit` of an io_end that carries no folio.
    case ioEndEmpty(IoEndRef)

    // MARK: Block layer and completion
    case bioNotQueued(BioRef)
    case bioNotInFlight(BioRef)
    /// ≤3.10 `ext4_add_complete_io`: the io_end is not a completed unwritten one.
    case ioEndNotCompleted(IoEndRef, IoEndPhase?)

    // MARK: Conversion worker
    /// The conversion workqueue runs one work item at a time (max_active 1):
    /// a run for `inode` is in progress.
    case workerBusy(DeviceNumber, running: InodeRef)
    case workNotQueued(ConversionWork)
    /// The worker converts its local list in order: the io_end is not its head.
    case notNextForWorker(IoEndRef)
    /// ≥3.11: the worker releases each io_end before converting the next.
    case previousNotReleased(IoEndRef)
    /// ≥3.11 `ext4_release_io_end`: the io_end is not the one just converted.
    case notJustConverted(IoEndRef)
    /// 3.7 final stage: the worker's run on the inode still has io_ends to convert.
    case workerHasConversionsLeft(InodeRef)

    // MARK: Profiles
    /// The transition does not exist in this kernel (it belongs to another
    /// generation of the io_end code).
    case notInProfile(KernelProfile)
}

/// Which freeze protection a freeze blocks.
public enum FreezeGate: UInt8, Hashable, Sendable {
    /// `sb_start_write` (write(2), fallocate, truncate, punch hole).
    case sbStartWrite
    /// `sb_start_pagefault` (`ext4_page_mkwrite`, 3.6+).
    case sbStartPagefault
    /// 2.6.39 `ext4_page_mkwrite` → `write_begin`'s journal start, on a frozen fs.
    case journalStart
    /// `freeze_super`: another freeze is under way or complete.
    case freezeSuper
}

/// A conversion work item: ≤3.7 one per io_end (`io_end->work`), ≥3.11 one
/// per inode (`i_rsv_conversion_work`).
public enum ConversionWork: Hashable, Sendable, CustomStringConvertible {
    case ioEnd(IoEndRef)
    case inode(InodeRef)

    public var description: String {
        switch self {
        case .ioEnd(let io): return "\(io)'s work"
        case .inode(let i): return "i_rsv_conversion_work of \(i)"
        }
    }
}

/// A transition refused, and why.
public struct NotEnabled: Error, Hashable, Sendable, CustomStringConvertible {
    public var transition: Transition
    public var blocker: Blocker

    /// The blocker in the words of the kernel function refused.
    public var reason: String { blocker.description(in: transition) }
    public var description: String { "\(transition.kernelFunction) not enabled: \(reason)" }
}

extension Blocker {
    /// The case of a blocker without its values: what a caller names when it
    /// tells `WritebackModel.force` which refusals the trace overrules.
    public enum Kind: UInt8, Hashable, Sendable, CaseIterable {
        case taskBusy, taskIdle, taskNotAtStep
        case noFileSystem, freezeBlocks, notFrozen, writerInside
        case inodeMissing, inodeNotLive, inodeExists, inodeNotNew, inodeReferenced, mutexHeld
        case ioEndsPending, unwrittenPending, conversionsPending
        case folioNotCached, folioNotUptodate, folioCached, folioLocked, folioUnderWriteback, folioDirty
        case folioMapped, folioNotMapped, pteWritable, pteNotWritable
        case writebackMidFolio, notNextDirtyFolio, writebackNotFinished, ioEndMissing, ioEndEmpty
        case bioNotQueued, bioNotInFlight, ioEndNotCompleted
        case workerBusy, workNotQueued, notNextForWorker, previousNotReleased, notJustConverted
        case workerHasConversionsLeft, notInProfile
    }

    public var kind: Kind {
        switch self {
        case .taskBusy: return .taskBusy
        case .taskIdle: return .taskIdle
        case .taskNotAtStep: return .taskNotAtStep
        case .noFileSystem: return .noFileSystem
        case .freezeBlocks: return .freezeBlocks
        case .notFrozen: return .notFrozen
        case .writerInside: return .writerInside
        case .inodeMissing: return .inodeMissing
        case .inodeNotLive: return .inodeNotLive
        case .inodeExists: return .inodeExists
        case .inodeNotNew: return .inodeNotNew
        case .inodeReferenced: return .inodeReferenced
        case .mutexHeld: return .mutexHeld
        case .ioEndsPending: return .ioEndsPending
        case .unwrittenPending: return .unwrittenPending
        case .conversionsPending: return .conversionsPending
        case .folioNotCached: return .folioNotCached
        case .folioNotUptodate: return .folioNotUptodate
        case .folioCached: return .folioCached
        case .folioLocked: return .folioLocked
        case .folioUnderWriteback: return .folioUnderWriteback
        case .folioDirty: return .folioDirty
        case .folioMapped: return .folioMapped
        case .folioNotMapped: return .folioNotMapped
        case .pteWritable: return .pteWritable
        case .pteNotWritable: return .pteNotWritable
        case .writebackMidFolio: return .writebackMidFolio
        case .notNextDirtyFolio: return .notNextDirtyFolio
        case .writebackNotFinished: return .writebackNotFinished
        case .ioEndMissing: return .ioEndMissing
        case .ioEndEmpty: return .ioEndEmpty
        case .bioNotQueued: return .bioNotQueued
        case .bioNotInFlight: return .bioNotInFlight
        case .ioEndNotCompleted: return .ioEndNotCompleted
        case .workerBusy: return .workerBusy
        case .workNotQueued: return .workNotQueued
        case .notNextForWorker: return .notNextForWorker
        case .previousNotReleased: return .previousNotReleased
        case .notJustConverted: return .notJustConverted
        case .workerHasConversionsLeft: return .workerHasConversionsLeft
        case .notInProfile: return .notInProfile
        }
    }
}
