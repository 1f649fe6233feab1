/// Per-event data the graph keeps, as parallel arrays (one entry per event,
/// in stream order): about 40 bytes an event, no objects.
struct NodeColumns {
    var timestamps: [UInt64] = []
    var cpus: [UInt16] = []
    var pids: [Int32] = []
    /// Index into the event-name table.
    var names: [UInt16] = []
    /// Index into the inode table, -1 for events about no inode.
    var inodes: [Int32] = []
    /// One number that identifies what the event touched: lblk for extent
    /// events, sector for block events, page index for folio events, the
    /// transaction for jbd2 events, the woken pid for wakeups.
    var details: [UInt64] = []
    /// The task chain (pid, or idle task of a CPU) and the position in it.
    var chains: [Int32] = []
    var positions: [Int32] = []

    var count: Int { timestamps.count }

    mutating func append(_ stamp: StreamStamp, name: UInt16, inode: Int32, detail: UInt64, chain: Int32, position: Int32) {
        timestamps.append(stamp.timestamp)
        cpus.append(UInt16(truncatingIfNeeded: stamp.cpu))
        pids.append(stamp.pid)
        names.append(name)
        inodes.append(inode)
        details.append(detail)
        chains.append(chain)
        positions.append(position)
    }

    mutating func reserve(_ n: Int) {
        timestamps.reserveCapacity(n); cpus.reserveCapacity(n); pids.reserveCapacity(n)
        names.reserveCapacity(n); inodes.reserveCapacity(n); details.reserveCapacity(n)
        chains.reserveCapacity(n); positions.reserveCapacity(n)
    }

    var byteSize: Int {
        timestamps.capacity * 8 + cpus.capacity * 2 + pids.capacity * 4 + names.capacity * 2
            + inodes.capacity * 4 + details.capacity * 8 + chains.capacity * 4 + positions.capacity * 4
    }
}

/// Edges as parallel arrays; program order is implicit in the task chains.
struct EdgeColumns {
    var sources: [Int32] = []
    var targets: [Int32] = []
    var kinds: [UInt8] = []

    var count: Int { sources.count }

    mutating func append(_ from: Int32, _ to: Int32, _ kind: EdgeKind) {
        sources.append(from)
        targets.append(to)
        kinds.append(kind.rawValue)
    }

    var byteSize: Int { sources.capacity * 4 + targets.capacity * 4 + kinds.capacity }
}
