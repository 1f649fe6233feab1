import TraceIO

/// Assigns generations to inode numbers as the trace frees and allocates
/// them. `ext4_allocate_inode` of a number already seen starts a new object;
/// events in between (eviction, page-cache teardown after `ext4_free_inode`)
/// still belong to the old one, as in the kernel where the number is only
/// reused by `__ext4_new_inode`.
public struct InodeGenerations: Sendable {
    private var current: [InodeKey: UInt32] = [:]

    public init() {}

    /// The object an event naming `key` refers to now.
    public mutating func resolve(_ key: InodeKey) -> InodeID {
        if let g = current[key] { return InodeID(key: key, generation: g) }
        current[key] = 0
        return InodeID(key: key, generation: 0)
    }

    /// `ext4_allocate_inode`: a new inode under `key`. The first sighting
    /// keeps generation 0; a number seen before gets the next generation.
    public mutating func allocate(_ key: InodeKey) -> InodeID {
        guard let g = current[key] else {
            current[key] = 0
            return InodeID(key: key, generation: 0)
        }
        current[key] = g + 1
        return InodeID(key: key, generation: g + 1)
    }
}
