import WritebackModel

/// A key naming an object of one inode: an io_end (by serial), a folio (by index).
protocol InodeScopedKey: Hashable {
    associatedtype Local: Hashable
    var inode: InodeRef { get }
    var local: Local { get }
}

extension IoEndRef: InodeScopedKey {
    var local: Int { serial }
}

extension FolioRef: InodeScopedKey {
    var local: UInt64 { index }
}

/// What a replay keeps per io_end or folio (trails, deciding events), by
/// inode first: the replay drops an inode's released objects after each
/// completion (`ProfileReplay.pruneTrails`), and that must cost that
/// inode's objects, not every object of every inode.
///
/// Why: with one table of all io_ends, each pruning walked every key (and
/// copied the whole table, which changed while its keys were being read):
/// quadratic on a trace whose io_ends stay live — a profile the trace does
/// not fit, or lost events — so that the older profiles took twice as long
/// as the newest on a 17 M-event trace with losses.
struct InodeScopedTable<Key: InodeScopedKey, Value> {
    private var byInode: [InodeRef: [Key.Local: Value]] = [:]
    /// Entries in all inodes.
    private(set) var count = 0

    subscript(key: Key) -> Value? {
        get { byInode[key.inode]?[key.local] }
        // In place, as a dictionary's: `trails[io]!.remove(at: 1)` must not
        // copy the trail (a set would get a copy, change it and store it).
        _modify {
            var inner = byInode.removeValue(forKey: key.inode) ?? [:]
            let had = inner.index(forKey: key.local) != nil
            defer {
                count += (inner.index(forKey: key.local) != nil ? 1 : 0) - (had ? 1 : 0)
                if !inner.isEmpty { byInode[key.inode] = inner }
            }
            yield &inner[key.local]
        }
    }

    /// The value, or `value` (stored on the first change) when there is none.
    subscript(key: Key, default value: @autoclosure () -> Value) -> Value {
        get { self[key] ?? value() }
        _modify {
            var inner = byInode.removeValue(forKey: key.inode) ?? [:]
            if inner[key.local] == nil { count += 1 }
            defer { byInode[key.inode] = inner }
            yield &inner[key.local, default: value()]
        }
    }

    /// Removes the entries of `inode` for which `drop` holds, in place.
    mutating func removeAll(of inode: InodeRef, where drop: (Key.Local) -> Bool) {
        var doomed: [Key.Local] = []
        if let inner = byInode[inode] {
            for local in inner.keys where drop(local) { doomed.append(local) }
        }
        guard !doomed.isEmpty else { return }
        for local in doomed { byInode[inode]!.removeValue(forKey: local) }
        count -= doomed.count
        if byInode[inode]!.isEmpty { byInode[inode] = nil }
    }

    /// Whether some entry of `inode` satisfies `test`.
    func contains(of inode: InodeRef, where test: (Key.Local) -> Bool) -> Bool {
        byInode[inode]?.keys.contains(where: test) ?? false
    }

    mutating func removeAll() {
        byInode.removeAll()
        count = 0
    }
}
