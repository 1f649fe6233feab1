import TraceIO

/// An inode as a kernel object: `(dev, ino)` plus a generation that
/// increments each time the inode number is freed (`ext4_free_inode`) and
/// allocated again (`ext4_allocate_inode`). Inode numbers are reused within
/// milliseconds (unlink, then create), so `(dev, ino)` alone merges two files.
public struct InodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var key: InodeKey
    public var generation: UInt32

    public init(key: InodeKey, generation: UInt32) {
        self.key = key
        self.generation = generation
    }

    public var dev: DeviceNumber { key.dev }
    public var ino: UInt64 { key.ino }

    /// "7:0:12" for the first generation seen, "7:0:12#1" after one reuse.
    public var description: String { generation == 0 ? key.description : "\(key)#\(generation)" }

    public static func < (a: InodeID, b: InodeID) -> Bool {
        (a.key, a.generation) < (b.key, b.generation)
    }
}

/// A mapping of logical blocks to physical blocks, in file-system blocks
/// (`ext4_map_blocks` results, extent-status entries).
public struct ExtentRange: Hashable, Sendable, CustomStringConvertible {
    public var lblk: UInt64
    public var pblk: UInt64
    public var len: UInt64

    public init(lblk: UInt64, pblk: UInt64, len: UInt64) {
        self.lblk = lblk
        self.pblk = pblk
        self.len = len
    }

    // Saturating: field values come from the input and may be garbage.
    public var lblkEnd: UInt64 { saturatingSum(lblk, len) }
    public var pblkEnd: UInt64 { saturatingSum(pblk, len) }

    public func overlapsLogical(_ other: ExtentRange) -> Bool {
        lblk < other.lblkEnd && other.lblk < lblkEnd
    }

    /// How many logical blocks the two extents share.
    public func logicalOverlapCount(_ other: ExtentRange) -> UInt64 {
        guard overlapsLogical(other) else { return 0 }
        return min(lblkEnd, other.lblkEnd) - max(lblk, other.lblk)
    }

    public var description: String { "[\(lblk)+\(len)) -> \(pblk)" }
}

/// A range of 512-byte sectors of a block device, as block events print it.
public struct SectorRange: Hashable, Sendable, CustomStringConvertible {
    public var dev: DeviceNumber
    public var sector: UInt64
    public var count: UInt64

    public init(dev: DeviceNumber, sector: UInt64, count: UInt64) {
        self.dev = dev
        self.sector = sector
        self.count = count
    }

    /// One past the last sector, saturating (a flush prints sector 2^64-1).
    public var end: UInt64 { saturatingSum(sector, count) }

    /// How many sectors the two ranges share.
    public func overlapCount(_ other: SectorRange) -> UInt64 {
        guard overlaps(other) else { return 0 }
        return min(end, other.end) - max(sector, other.sector)
    }

    public func overlaps(_ other: SectorRange) -> Bool {
        dev == other.dev && sector < other.end && other.sector < end
    }

    public var description: String { "\(dev) \(sector)+\(count)" }
}

/// A `struct work_struct` as the workqueue events name it: its address and
/// its function. Addresses are slab memory and are reused, so a work item
/// (one queueing and its execution) is this key plus the queueing event.
public struct WorkKey: Hashable, Sendable, CustomStringConvertible {
    public var work: UInt64
    public var function: String

    public init(work: UInt64, function: String) {
        self.work = work
        self.function = function
    }

    public var description: String { "\(function)@0x\(String(work, radix: 16))" }
}

/// A page-cache folio: its inode, its first page index and its order
/// (large folios cover 2^order pages).
public struct FolioID: Hashable, Sendable, CustomStringConvertible {
    public var inode: InodeID
    public var index: UInt64
    public var order: UInt8

    public init(inode: InodeID, index: UInt64, order: UInt8) {
        self.inode = inode
        self.index = index
        self.order = order
    }

    public var description: String { "\(inode)[\(index)]" + (order > 0 ? "/\(order)" : "") }
}

func saturatingSum(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? .max : sum
}
