import TraceIO
import WritebackModel

/// The kinds of object whose lifecycles `diff` compares with a profile.
public enum ReplayObjectKind: String, CaseIterable, Hashable, Sendable, Comparable {
    /// One `ext4_io_end`, from `ext4_io_submit` to its release.
    case ioEnd = "io_end"
    /// One writeback cycle of a folio (`mpage_submit_folio` … `folio_end_writeback`).
    case folio
    /// One `ext4_sync_file` call.
    case fsync
    /// One block-removing or -reserving operation (truncate, punch hole, fallocate).
    case extent
    /// One inode lifetime (allocate or first sight … free).
    case inode
    /// One freeze / thaw of a file system.
    case superblock

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The case, not its raw string: every profile counts each object born
    /// by its kind (`ObjectConformance.born`), and hashing the raw value
    /// hashed a string per folio writeback.
    public func hash(into hasher: inout Hasher) { hasher.combine(ordinal) }

    /// Six cases: the ordinal mixed with the table's seed, no SipHash round.
    public func _rawHashValue(seed: Int) -> Int { WordHash.fold(UInt64(ordinal), seed: seed) }

    private var ordinal: UInt8 {
        switch self {
        case .ioEnd: 0
        case .folio: 1
        case .fsync: 2
        case .extent: 3
        case .inode: 4
        case .superblock: 5
        }
    }
}

/// Which object a transition is about, as a kind and a key that names it
/// the same way wherever it diverges, plus where its state history lives
/// (`HistoryRecorder` names: "io_end 3", "folio 12", "inode").
struct ReplayObject: Hashable {
    var kind: ReplayObjectKind
    var key: String
    var inode: InodeRef? = nil
    var historyLabel: String? = nil

    /// `fsyncStart`: the event index of the task's `ext4_sync_file_enter`,
    /// which tells one fsync of a task from the next.
    static func of(_ t: Transition, fsyncStart: Int? = nil) -> ReplayObject {
        switch t {
        case .ext4DaWriteBegin(_, let f), .ext4PageMkwrite(_, let f), .userStore(_, let f), .filemapFault(_, let f),
             .zapPteRange(_, let f), .mpageSubmitFolio(_, let f), .ext4BioWriteFolio(_, let f),
             .shrinkFolioList(let f), .ext4ReadFolio(_, let f):
            return ReplayObject(kind: .folio, key: "\(f)", inode: f.inode, historyLabel: "folio \(f.index)")
        case .ext4IoSubmit(_, let io), .ext4PutIoEnd(_, let io), .ext4AddCompleteIo(let io), .ext4EndIoWork(let io),
             .ext4ConvertUnwrittenIoEndVec(let io), .ext4ReleaseIoEnd(let io):
            return ioEnd(io)
        case .blkMqStartRequest(let b), .ext4EndBio(let b, _):
            return ioEnd(b.ioEnd)
        case .ext4SyncFile(let task, _, _), .filemapFdatawaitRange(let task), .ext4FlushCompletedIO(let task),
             .ext4UnwrittenWait(let task), .ext4SyncFileReturn(let task):
            return ReplayObject(kind: .fsync, key: "fsync by \(task)" + (fsyncStart.map { " at event \($0)" } ?? ""),
                                inode: t.namedInode, historyLabel: "inode")
        case .ext4Setattr(let task, _, _), .ext4PunchHole(let task, _, _, _), .ext4Fallocate(let task, _, _),
             .truncatePagecache(let task), .ext4ExtRemoveSpace(let task):
            return ReplayObject(kind: .extent, key: "blocks changed by \(task)", inode: t.namedInode, historyLabel: "inode")
        case .freezeSuper(_, let d), .thawSuper(_, let d):
            return ReplayObject(kind: .superblock, key: "\(d)")
        case .ext4Freeze(let task), .ext4Unfreeze(let task):
            return ReplayObject(kind: .superblock, key: "freeze by \(task)")
        default:
            if let i = t.namedInode { return ReplayObject(kind: .inode, key: "\(i)", inode: i, historyLabel: "inode") }
            return ReplayObject(kind: .inode, key: "\(t.actor)")
        }
    }

    static func ioEnd(_ io: IoEndRef) -> ReplayObject {
        ReplayObject(kind: .ioEnd, key: "\(io)", inode: io.inode, historyLabel: "io_end \(io.serial)")
    }

    /// The object kind a completed transition brings into being, if any:
    /// what `diff` counts as "all objects" of that kind.
    static func born(by t: Transition) -> ReplayObjectKind? {
        switch t {
        case .ext4IoSubmit: return .ioEnd
        case .mpageSubmitFolio: return .folio
        case .ext4SyncFile: return .fsync
        case .ext4Setattr, .ext4PunchHole, .ext4Fallocate: return .extent
        case .freezeSuper: return .superblock
        default: return nil
        }
    }
}

/// How many objects of each kind a replay saw, and which diverged.
public struct ObjectConformance: Hashable, Sendable {
    public var objects: [ReplayObjectKind: Int] = [:]
    /// Distinct diverging objects per kind (capped: see `cap`).
    public var diverging: [ReplayObjectKind: Int] = [:]
    private var divergingKeys: Set<String> = []
    static let cap = 100_000

    /// Objects of `kind` that never diverged over all of that kind (1 with none seen).
    public func conformance(_ kind: ReplayObjectKind) -> Double {
        let all = max(objects[kind] ?? 0, diverging[kind] ?? 0)
        return all == 0 ? 1 : Double(all - (diverging[kind] ?? 0)) / Double(all)
    }

    /// Over every kind.
    public var overall: Double {
        let all = ReplayObjectKind.allCases.reduce(0) { $0 + max(objects[$1] ?? 0, diverging[$1] ?? 0) }
        let bad = diverging.values.reduce(0, +)
        return all == 0 ? 1 : Double(all - bad) / Double(all)
    }

    mutating func born(_ kind: ReplayObjectKind) { objects[kind, default: 0] += 1 }

    mutating func diverged(_ object: ReplayObject) {
        guard divergingKeys.count < Self.cap, divergingKeys.insert("\(object.kind.rawValue) \(object.key)").inserted else { return }
        diverging[object.kind, default: 0] += 1
    }
}
