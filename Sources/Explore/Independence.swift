import TraceIO
import WritebackModel

/// The independence relation of the partial-order reduction: two steps
/// commute — either order reaches the same state and breaks the same rules —
/// when different actors take them and they touch different objects.
///
/// Objects are inodes (an inode's folios, io_ends, extents, lists and
/// `i_mutex` live in its `InodeState`). Anything that reads or writes a whole
/// file system is dependent on every step on that device: FIFREEZE / FITHAW
/// (the freeze level every writer checks, `sync_filesystem` walking every
/// inode), the conversion worker (one per fs, max_active 1), and a step
/// whose footprint names no inode.
///
/// Inside one inode, steps confined to one folio — a write fault, a store, a
/// read fault, munmap's PTE transfer, reclaim of a folio, a read back — are
/// independent of such steps on another folio: none of them changes what
/// the others check (the freeze level, the extents, the io_ends, the
/// inode's life). Writeback is not folio-local: which folio it takes next
/// depends on every dirty folio of the inode. Rules look only at the footprint
/// (`ModelState.footprint`) and the superblock, so disjoint footprints also
/// give identical violations in either order.
enum Independence {
    struct Footprint: Hashable {
        var actor: ActorRef
        var inodes: [InodeRef]
        /// Touches state shared by every inode of `device`.
        var wholeDevice: Bool
        var device: DeviceNumber?
        /// The one folio a folio-local step touches.
        var folio: FolioRef?
    }

    /// Steps that change and read one folio of their inode (plus state no
    /// other folio-local step changes).
    static func folioLocal(_ t: Transition) -> FolioRef? {
        switch t {
        case .ext4PageMkwrite(_, let f), .userStore(_, let f), .filemapFault(_, let f), .zapPteRange(_, let f),
             .shrinkFolioList(let f), .ext4ReadFolio(_, let f):
            return f
        default:
            return nil
        }
    }

    static func footprint(of t: Transition, in s: ModelState) -> Footprint {
        let (dev, inodes) = s.footprint(of: t)
        var whole = inodes.isEmpty || t.actor == .worker
        switch t {
        case .freezeSuper, .ext4Freeze, .thawSuper, .ext4Unfreeze: whole = true
        default: break
        }
        if case .task(let id) = t.actor, let task = s.tasks[id] {
            if case .device? = task.writeback?.scope { whole = true }
            switch task.operation {
            case .freeze, .thaw: whole = true
            default: break
            }
        }
        return Footprint(actor: t.actor, inodes: inodes, wholeDevice: whole,
                         device: dev, folio: folioLocal(t))
    }

    static func independent(_ a: Footprint, _ b: Footprint) -> Bool {
        guard a.actor != b.actor else { return false }
        if a.device != b.device, a.device != nil, b.device != nil { return true }
        if a.wholeDevice || b.wholeDevice { return false }
        if let fa = a.folio, let fb = b.folio { return fa != fb }
        return !a.inodes.contains(where: b.inodes.contains)
    }
}
