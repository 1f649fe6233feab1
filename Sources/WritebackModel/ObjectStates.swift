import TraceIO

/// `sb->s_writers.frozen`, collapsed to what the rules need. The kernel's
/// SB_FREEZE_WRITE / PAGEFAULT / FS levels are all "freezing" here: new
/// writers and page faults block, writers already inside finish, and
/// `sync_filesystem` writes everything out — all legal during the ioctl.
public enum FreezeLevel: UInt8, Hashable, Sendable {
    case unfrozen, freezing, frozen, thawing
}

/// One mounted ext4 file system (a superblock) and its conversion kworker.
public struct SuperblockState: Hashable, Sendable {
    public var freeze: FreezeLevel = .unfrozen
    /// The backing device requires stable pages (BLK_FEAT_STABLE_WRITES or
    /// integrity): `/sys/block/*/queue/stable_writes`.
    public var stableWrites: Bool
    /// Mount option: allocation during writeback creates unwritten extents.
    /// nil: the trace has not shown it yet, and the profile's default holds
    /// (`WritebackModel.dioreadNolock(_:)` reads it where a step needs it).
    /// Why not the default at the mount: that read is one on which 3.11 and
    /// the profiles from 5.6 on disagree, and a replay standing for several
    /// profiles parts them at such a read (`TraitLog`), though a trace of
    /// dioread_nolock shows its first unwritten mapping before any step
    /// needs the option.
    public var dioreadNolock: Bool?
    /// Mount option data_err=abort (6.x defers FAILED io_ends only with it).
    public var dataErrAbort: Bool
    /// Blocks per folio (page size / block size; 1 for 4k blocks).
    public var blocksPerFolio: UInt64
    /// Writes to the device may fail (`block_rq_complete` with an error):
    /// exploration then tries both outcomes of every completion.
    public var ioErrorsPossible: Bool
    /// The conversion workqueue's single running work item (max_active 1).
    public var worker: WorkerRun?

    /// A mount with the profile's default options, dioread_nolock resolved
    /// (on from 5.6: `KernelTraits.dioreadNolockByDefault`).
    public init(defaultsOf traits: KernelTraits, stableWrites: Bool = false, blocksPerFolio: UInt64 = 1) {
        self.init(stableWrites: stableWrites, dioreadNolock: traits.dioreadNolockByDefault,
                  blocksPerFolio: blocksPerFolio)
    }

    public init(defaultsOf profile: KernelProfile, stableWrites: Bool = false, blocksPerFolio: UInt64 = 1) {
        self.init(defaultsOf: KernelTraits(profile), stableWrites: stableWrites, blocksPerFolio: blocksPerFolio)
    }

    public init(stableWrites: Bool = false, dioreadNolock: Bool? = true,
                dataErrAbort: Bool = false, blocksPerFolio: UInt64 = 1, ioErrorsPossible: Bool = false) {
        self.ioErrorsPossible = ioErrorsPossible
        self.stableWrites = stableWrites
        self.dioreadNolock = dioreadNolock
        self.dataErrAbort = dataErrAbort
        self.blocksPerFolio = max(1, blocksPerFolio)
    }
}

/// A conversion work item in progress: the io_ends the worker took off the
/// inode's list (`list_replace_init` into its local `unwritten` list), which
/// nobody else can see any more — the heart of seed 002's V4 race.
public struct WorkerRun: Hashable, Sendable {
    public var inode: InodeRef
    /// ≤3.7: the io_end whose `work` is running (`work_io`); nil for the
    /// per-inode work of ≥3.11.
    public var workIoEnd: IoEndRef?
    /// Taken from the list, not yet converted, in list order.
    public var local: [IoEndRef]
    /// Converted in this run, waiting for the final locked stage (3.7) or
    /// for `ext4_release_io_end` (≥3.11: at most the head of `local`).
    public var converted: [IoEndRef]
}

public enum InodeLifecycle: UInt8, Hashable, Sendable {
    /// `ext4_new_inode`, not yet unlocked (`unlock_new_inode`).
    case allocated
    case live
    /// `ext4_evict_inode` running.
    case evicting
    /// Freed: any later use is a use-after-free.
    case freed
}

/// One inode incarnation: its lifecycle, extents, folios, io_ends, and the
/// conversion list (`i_completed_io_list` ≤3.10, `i_rsv_conversion_list` ≥3.11).
///
/// The four collections live in one copy-on-write box: a replay copies
/// inode states all the time (a dictionary's getter copies its value, the
/// rules keep the state before a step aside), and a copy is one reference
/// count instead of one per collection (six).
public struct InodeState: Hashable, Sendable {
    public var lifecycle: InodeLifecycle
    /// i_size in blocks.
    public var sizeBlocks: UInt64
    /// ≥3.11: `i_rsv_conversion_work` is pending (queued, not yet started).
    public var rsvWorkQueued = false
    /// The task holding `i_mutex` / `inode_lock`.
    public var mutexHolder: Int?
    var nextIoEndSerial = 0
    private var contents = Contents()

    /// How many io_ends this inode has freed: each takes the next serial
    /// where the model allocates it (`mpageSubmitFolio`, the pass's
    /// `ext4_init_io_end`) and leaves `ioEnds` when freed, so the count
    /// changes exactly when an io_end goes.
    public var ioEndsFreed: Int { nextIoEndSerial - ioEnds.count }

    public init(lifecycle: InodeLifecycle = .live, sizeBlocks: UInt64 = 0) {
        self.lifecycle = lifecycle
        self.sizeBlocks = sizeBlocks
    }

    public var extents: ExtentMap {
        get { contents.extents }
        set { makeUnique(); contents.extents = newValue }
        _modify { makeUnique(); yield &contents.extents }
    }

    public var folios: FolioTable {
        get { contents.folios }
        set { makeUnique(); contents.folios = newValue }
        _modify { makeUnique(); yield &contents.folios }
    }

    public var ioEnds: [Int: IoEndState] {
        get { contents.ioEnds }
        set { makeUnique(); contents.ioEnds = newValue }
        _modify { makeUnique(); yield &contents.ioEnds }
    }

    public var conversionList: [Int] {
        get { contents.conversionList }
        set { makeUnique(); contents.conversionList = newValue }
        _modify { makeUnique(); yield &contents.conversionList }
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&contents) { contents = Contents(contents) }
    }

    /// Mutated only while uniquely referenced (`makeUnique`), so sharing it
    /// between threads is sharing an immutable value.
    private final class Contents: @unchecked Sendable {
        var extents = ExtentMap()
        var folios = FolioTable()
        var ioEnds: [Int: IoEndState] = [:]
        var conversionList: [Int] = []

        init() {}

        init(_ other: Contents) {
            extents = other.extents
            folios = other.folios
            ioEnds = other.ioEnds
            conversionList = other.conversionList
        }
    }

    public static func == (a: InodeState, b: InodeState) -> Bool {
        guard a.lifecycle == b.lifecycle, a.sizeBlocks == b.sizeBlocks, a.rsvWorkQueued == b.rsvWorkQueued,
              a.mutexHolder == b.mutexHolder, a.nextIoEndSerial == b.nextIoEndSerial else { return false }
        if a.contents === b.contents { return true }
        return a.extents == b.extents && a.folios == b.folios && a.ioEnds == b.ioEnds && a.conversionList == b.conversionList
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(lifecycle)
        hasher.combine(sizeBlocks)
        hasher.combine(rsvWorkQueued)
        hasher.combine(mutexHolder)
        hasher.combine(nextIoEndSerial)
        hasher.combine(contents.extents)
        hasher.combine(contents.folios)
        hasher.combine(contents.ioEnds)
        hasher.combine(contents.conversionList)
    }

    /// io_ends not yet released, in allocation order.
    public var pendingIoEnds: [Int] { ioEnds.keys.sorted() }
}

/// How a page-table entry maps a folio into a user address space.
public enum PteState: UInt8, Hashable, Sendable {
    case none, readOnly, writable
}

/// One page-cache folio (PG_dirty, PG_writeback, PG_uptodate, PG_locked)
/// plus the user mapping that seed 001 is about. A folio is in the page
/// cache exactly when the inode's `folios` has it: reclaim and truncate
/// remove the entry, a read or a write adds it back.
public struct FolioState: Hashable, Sendable {
    public var uptodate = true
    public var dirty = false
    public var writeback = false
    public var lockedBy: ActorRef?
    public var pte: PteState = .none
    /// The PTE's dirty bit: set by a CPU store through a writable PTE,
    /// moved into PG_dirty by `folio_mkclean` / `zap_pte_range`.
    public var pteDirty = false

    public init() {}
}

/// io_end lifecycle: allocated → mapping → submitted → bioDone →
/// queued (on the conversion list) → converting (taken by a worker or a
/// flush) → converted → released. `converted` exists because 3.6/3.7 keep a
/// converted io_end alive until its own work item frees it, and ≥3.11 ends
/// writeback in a separate step (`ext4_release_io_end`). Release
/// (`ext4_release_io_end` / `ext4_free_io_end`) removes the io_end from the
/// state, so a released io_end is one that is no longer there.
public enum IoEndPhase: UInt8, Hashable, Comparable, Sendable {
    case allocated, mapping, submitted, bioDone, queued, converting, converted
    public static func < (a: IoEndPhase, b: IoEndPhase) -> Bool { a.rawValue < b.rawValue }
}

public struct IoEndFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// EXT4_IO_END_UNWRITTEN: some block was mapped unwritten and needs conversion.
    public static let unwritten = IoEndFlags(rawValue: 1)
    /// EXT4_IO_END_FAILED (6.15+) / EXT4_IO_END_ERROR (3.x): a bio failed.
    public static let failed = IoEndFlags(rawValue: 2)
}

public enum BioStatus: UInt8, Hashable, Sendable {
    case queued, issued, completedOK, completedError
    public var isComplete: Bool { self == .completedOK || self == .completedError }
}

public struct BioState: Hashable, Sendable {
    public var range: BlockRange
    public var status: BioStatus = .queued
    /// The folios this bio carries (`ext4_finish_bio` ends their
    /// writeback), in order: those its io_end gathered since its previous bio.
    public var folios: [UInt64] = []
}

/// One `ext4_io_end`.
public struct IoEndState: Hashable, Sendable {
    public var phase: IoEndPhase = .allocated
    public var flags: IoEndFlags = []
    /// `io_end->count` (≥3.11); 1 per bio before.
    public var refcount = 1
    /// The blocks this io_end writes (its io_end_vec ranges), in order.
    public var ranges: [BlockRange] = []
    /// The blocks that were unwritten when mapped: what conversion converts.
    public var unwrittenRanges: [BlockRange] = []
    /// Folio indexes whose writeback this io_end carries.
    public var folios: [UInt64] = []
    public var bios: [BioState] = []
    /// ≤3.7: `io_end->work` is queued (3.7: EXT4_IO_END_QUEUED).
    public var workQueued = false
    /// The folios' writeback already ended (`ext4_finish_bio` ran for its bios).
    public var writebackEnded = false

    public init() {}

    /// The data reached the disk: every bio completed and none failed.
    public var dataOnDisk: Bool {
        !bios.isEmpty && bios.allSatisfy { $0.status == .completedOK }
    }
    public var allBiosComplete: Bool { !bios.isEmpty && bios.allSatisfy(\.status.isComplete) }

    /// How many of its folios are in its bios: ≥3.11 one io_end carries
    /// every bio of a pass (`ext4_io_submit` puts the folios gathered since
    /// the previous bio in the next one).
    public var foliosInBios: Int { bios.reduce(0) { $0 + $1.folios.count } }
}
