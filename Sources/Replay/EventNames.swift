import Synchronization
import TraceIO

/// An event name as a small number. A `Stamp` is made on the reading thread
/// and used on the model's thread for every event; a `String` in it would have
/// both threads retain and release the same shared name object millions of
/// times, and that reference count bouncing between two cores cost more than
/// the model step itself. Numbers cross threads for free.
struct EventName: Hashable, Sendable {
    let id: UInt32

    /// Names the replay asks about on every event; interned first, so their
    /// numbers are known without a lookup.
    static let none = EventName(id: 0)
    static let workqueueExecuteStart = EventName(id: 1)
    static let sbClearInodeWriteback = EventName(id: 2)
    static let ext4SyncFs = EventName(id: 3)
    fileprivate static let preset = ["", "workqueue_execute_start", "sb_clear_inode_writeback", "ext4_sync_fs"]
}

/// The names of one replay's events: numbered by the reading thread, read
/// back (rarely: for divergences and findings) by the model's thread.
final class EventNames: Sendable {
    private let table = Mutex<(numbers: [String: EventName], names: [String])>(([:], []))

    init() {
        for name in EventName.preset { _ = intern(name) }
    }

    /// The number of `name`, given on first sight.
    func intern(_ name: String) -> EventName {
        table.withLock { t in
            if let known = t.numbers[name] { return known }
            let number = EventName(id: UInt32(t.names.count))
            t.numbers[name] = number
            t.names.append(name)
            return number
        }
    }

    subscript(_ name: EventName) -> String {
        table.withLock { t in Int(name.id) < t.names.count ? t.names[Int(name.id)] : "?" }
    }
}

/// The reading thread's own cache of `EventNames`, so that numbering an
/// event takes no lock: the shared table is asked only for a new name.
struct EventNameCache {
    let names: EventNames
    private var known: [String: EventName] = [:]
    /// By `EventView.formatID`, so that most events need no hashing.
    private var byFormat = FormatCache<EventName>()

    init(_ names: EventNames) { self.names = names }

    mutating func number(_ view: EventView) -> EventName {
        if let known = byFormat.value(for: view) { return known }
        let n = number(view.name)
        byFormat.store(n, for: view)
        return n
    }

    mutating func number(_ name: String) -> EventName {
        if let n = known[name] { return n }
        let n = names.intern(name)
        known[name] = n
        return n
    }
}
