import TraceIO

/// One incarnation of an inode. Inode numbers are reused within milliseconds
/// (evict, free, re-create), so the model keys inodes by generation too: a
/// re-created inode with the same number is a different object.
public struct InodeRef: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var dev: DeviceNumber
    public var ino: UInt64
    public var generation: UInt32

    public init(dev: DeviceNumber, ino: UInt64, generation: UInt32 = 0) {
        self.dev = dev
        self.ino = ino
        self.generation = generation
    }

    /// One word into the hasher instead of four: inode refs key the
    /// dictionaries the replay looks up on every event.
    public func hash(into hasher: inout Hasher) { hasher.combine(mixed) }

    /// What `Dictionary` and `Set` ask of a key: `mixed` folded with the
    /// table's seed, without a SipHash round per lookup (a replay looks an
    /// inode up several times per event). Equal refs give equal values.
    public func _rawHashValue(seed: Int) -> Int { WordHash.fold(mixed, seed: seed) }

    var mixed: UInt64 { ino &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(generation) << 32 ^ dev.kernelEncoded }

    public static func < (a: InodeRef, b: InodeRef) -> Bool {
        (a.dev, a.ino, a.generation) < (b.dev, b.ino, b.generation)
    }

    public var description: String { "\(dev):\(ino)#\(generation)" }
}

/// One `ext4_io_end`. The kernel never names io_ends in a trace; the model
/// numbers them per inode in allocation order (`ext4_init_io_end`), which is
/// deterministic for a given sequence of transitions.
public struct IoEndRef: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var inode: InodeRef
    public var serial: Int

    public init(inode: InodeRef, serial: Int) {
        self.inode = inode
        self.serial = serial
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(mixed) }

    /// As `InodeRef._rawHashValue(seed:)`: the replay keys its io_end
    /// trails and events by io_end.
    public func _rawHashValue(seed: Int) -> Int { WordHash.fold(mixed, seed: seed) }

    var mixed: UInt64 { inode.mixed ^ UInt64(UInt(bitPattern: serial)) &* 0x94D0_49BB_1331_11EB }

    public static func < (a: IoEndRef, b: IoEndRef) -> Bool {
        (a.inode, a.serial) < (b.inode, b.serial)
    }

    public var description: String { "io_end \(inode)/\(serial)" }
}

/// One page-cache folio of an inode, by the index of its first page.
public struct FolioRef: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var inode: InodeRef
    public var index: UInt64

    public func hash(into hasher: inout Hasher) { hasher.combine(mixed) }

    /// As `InodeRef._rawHashValue(seed:)`: no SipHash round per lookup.
    public func _rawHashValue(seed: Int) -> Int { WordHash.fold(mixed, seed: seed) }

    var mixed: UInt64 { inode.mixed ^ index &* 0xC2B2_AE3D_27D4_EB4F }

    public init(inode: InodeRef, index: UInt64) {
        self.inode = inode
        self.index = index
    }

    public static func < (a: FolioRef, b: FolioRef) -> Bool {
        (a.inode, a.index) < (b.inode, b.index)
    }

    public var description: String { "folio \(inode)@\(index)" }
}

/// One write bio of an io_end (an io_end may span several bios since 3.11,
/// 97a851ed71cd); numbered within its io_end.
public struct BioRef: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var ioEnd: IoEndRef
    public var index: Int

    public init(ioEnd: IoEndRef, index: Int) {
        self.ioEnd = ioEnd
        self.index = index
    }

    public static func < (a: BioRef, b: BioRef) -> Bool {
        (a.ioEnd, a.index) < (b.ioEnd, b.index)
    }

    public var description: String { "bio \(ioEnd.inode)/\(ioEnd.serial).\(index)" }
}

/// A run of logical blocks of one inode: `[lblk, lblk + len)`.
public struct BlockRange: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var lblk: UInt64
    public var len: UInt64

    public init(lblk: UInt64, len: UInt64) {
        self.lblk = lblk
        self.len = len
    }

    public var end: UInt64 { lblk &+ len }
    public var isEmpty: Bool { len == 0 }

    public func contains(_ block: UInt64) -> Bool { block >= lblk && block < end }

    public func intersection(_ other: BlockRange) -> BlockRange? {
        let start = max(lblk, other.lblk)
        let stop = min(end, other.end)
        return start < stop ? BlockRange(lblk: start, len: stop - start) : nil
    }

    /// Every block of this range is in `other` (an empty range is in any).
    public func isWithin(_ other: BlockRange) -> Bool { isEmpty || (lblk >= other.lblk && end <= other.end) }

    public static func < (a: BlockRange, b: BlockRange) -> Bool { (a.lblk, a.len) < (b.lblk, b.len) }

    public var description: String { "[\(lblk)+\(len))" }
}

/// Who performs a transition. Tasks are numbered by the scenario or by the
/// replay (a pid); the block device completes I/O (irq); the worker is the
/// conversion kworker (`ext4-dio-unwritten` / `ext4-rsv-conversion`); reclaim
/// is memory pressure plus whoever reads a reclaimed folio back.
public enum ActorRef: Hashable, Comparable, Sendable, CustomStringConvertible {
    case task(Int)
    case blockDevice
    case worker
    case reclaim

    private var order: (Int, Int) {
        switch self {
        case .task(let id): return (0, id)
        case .blockDevice: return (1, 0)
        case .worker: return (2, 0)
        case .reclaim: return (3, 0)
        }
    }

    public static func < (a: ActorRef, b: ActorRef) -> Bool { a.order < b.order }

    public var description: String {
        switch self {
        case .task(let id): return "task \(id)"
        case .blockDevice: return "irq"
        case .worker: return "kworker"
        case .reclaim: return "reclaim"
        }
    }
}
