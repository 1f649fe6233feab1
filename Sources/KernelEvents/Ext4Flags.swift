/// `EXT4_GET_BLOCKS_*` request flags, as `ext4_ext_map_blocks_enter/exit` and
/// `ext4_ext_handle_unwritten_extents` store them in `flags` (fs/ext4/ext4.h,
/// `show_map_flags` in include/trace/events/ext4.h, 6.18). The bit values are
/// the ones the 6.18 format files print; they have been stable since 3.11.
public struct MapFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let create = MapFlags(rawValue: 0x0001)
    public static let unwritten = MapFlags(rawValue: 0x0002)
    public static let delalloc = MapFlags(rawValue: 0x0004)
    /// Writeback (or DIO) into space that must stay unwritten until the I/O ends.
    public static let preIO = MapFlags(rawValue: 0x0008)
    /// End-of-I/O conversion of an unwritten extent to written.
    public static let convert = MapFlags(rawValue: 0x0010)
    public static let metadataNoFail = MapFlags(rawValue: 0x0020)
    public static let noNormalize = MapFlags(rawValue: 0x0040)
    public static let convertUnwritten = MapFlags(rawValue: 0x0100)
    public static let zero = MapFlags(rawValue: 0x0200)
    public static let ioSubmit = MapFlags(rawValue: 0x0400)
    public static let exNoCache = MapFlags(rawValue: 0x4000_0000)

    static let names: [(MapFlags, String)] = [
        (.create, "CREATE"), (.unwritten, "UNWRIT"), (.delalloc, "DELALLOC"), (.preIO, "PRE_IO"),
        (.convert, "CONVERT"), (.metadataNoFail, "METADATA_NOFAIL"), (.noNormalize, "NO_NORMALIZE"),
        (.convertUnwritten, "CONVERT_UNWRITTEN"), (.zero, "ZERO"), (.ioSubmit, "IO_SUBMIT"),
        (.exNoCache, "EX_NOCACHE"),
    ]

    public var description: String { flagNames(rawValue, Self.names.map { ($0.0.rawValue, $0.1) }, "|") }

    /// A call that maps an unwritten extent for the I/O about to be
    /// submitted (not its conversion). Up to 6.x writeback and DIO pass
    /// `EXT4_GET_BLOCKS_IO_CREATE_EXT` (PRE_IO with CREATE|UNWRIT); 7.x
    /// dropped PRE_IO (its bit is SPLIT_NOMERGE there, per the 7.3 format
    /// files) and writeback's `mpage_map_one_extent` passes CREATE|UNWRIT
    /// with IO_SUBMIT.
    public var mapsUnwrittenForIO: Bool {
        !contains(.convert) && (contains(.preIO) || contains([.unwritten, .ioSubmit]))
    }
}

/// `EXT4_MAP_*` result flags of `ext4_ext_map_blocks_exit.mflags` and
/// `ext4_da_write_pages_extent.flags` (`show_mflags`, 6.18: N = 1<<5,
/// M = 1<<4, U = 1<<11, B = 1<<9).
public struct MapResultFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let new = MapResultFlags(rawValue: 1 << 5)
    public static let mapped = MapResultFlags(rawValue: 1 << 4)
    public static let unwritten = MapResultFlags(rawValue: 1 << 11)
    public static let boundary = MapResultFlags(rawValue: 1 << 9)

    public var description: String {
        flagNames(rawValue, [(Self.new.rawValue, "N"), (Self.mapped.rawValue, "M"),
                             (Self.unwritten.rawValue, "U"), (Self.boundary.rawValue, "B")], "")
    }
}

/// Extent-status tree states of `ext4_es_insert_extent.status` and friends
/// (`show_extent_status`: W = 1, U = 2, D = 4, H = 8, R = 16).
public struct ExtentStatus: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let written = ExtentStatus(rawValue: 1 << 0)
    public static let unwritten = ExtentStatus(rawValue: 1 << 1)
    public static let delayed = ExtentStatus(rawValue: 1 << 2)
    public static let hole = ExtentStatus(rawValue: 1 << 3)
    public static let referenced = ExtentStatus(rawValue: 1 << 4)

    public var description: String {
        flagNames(rawValue, [(1, "W"), (2, "U"), (4, "D"), (8, "H"), (16, "R")], "")
    }
}

func flagNames(_ value: UInt64, _ names: [(UInt64, String)], _ separator: String) -> String {
    var parts: [String] = []
    var rest = value
    for (bit, name) in names where value & bit == bit {
        parts.append(name)
        rest &= ~bit
    }
    if rest != 0 { parts.append("0x" + String(rest, radix: 16)) }
    return parts.joined(separator: separator)
}
