import TraceIO
import WritebackModel

/// One state an object went through, and the event where it got there.
public struct StateChange: Hashable, Sendable {
    public var eventIndex: Int
    public var timestamp: UInt64
    /// The kernel function of the transition that changed it.
    public var transition: String
    public var state: String
}

/// The states of one object of an inode (an io_end, a folio, a block range).
public struct ObjectHistory: Hashable, Sendable {
    /// "io_end 3", "folio 12", "blocks [0+8)".
    public var object: String
    public var generation: UInt32
    public var changes: [StateChange]
}

/// Records, for the objects of one inode number (every generation), each
/// state change the model makes, as compact strings. Only that inode is
/// kept: memory is its history, not the trace's.
///
/// The model values seen last are kept per generation, so that a step
/// costs a comparison of what it left unchanged (the same storage compares
/// in O(1)) and a string only for an object that changed: describing every
/// folio of a large file at every step made `diff` quadratic.
struct HistoryRecorder {
    let ino: UInt64
    private var last: [String: String] = [:]
    private var order: [String] = []
    private var histories: [String: ObjectHistory] = [:]
    /// What the last snapshot of each generation saw. Filtered, only the
    /// wanted objects' values: holding the inode's tables would make the
    /// model copy them whole (copy on write) at its next step.
    private var seen: [UInt32: InodeState] = [:]
    private var seenIoEnds: [UInt32: [Int: IoEndState]] = [:]
    private var seenFolios: [UInt32: [UInt64: FolioState]] = [:]
    /// When set, only these objects are recorded (`diff` wants the history
    /// of the objects that diverged): their io_end serials and folio indexes.
    private let onlyIoEnds: [Int]?
    private let onlyFolios: [UInt64]?
    private let includeInode: Bool

    /// `objects`: history labels ("inode", "io_end 3", "folio 12") to
    /// record; nil records every object of the inode (`replay --ino`).
    init(ino: UInt64, objects: Set<String>? = nil) {
        self.ino = ino
        if let objects {
            onlyIoEnds = objects.compactMap { $0.hasPrefix("io_end ") ? Int($0.dropFirst(7)) : nil }
            onlyFolios = objects.compactMap { $0.hasPrefix("folio ") ? UInt64($0.dropFirst(6)) : nil }
            includeInode = objects.contains("inode")
        } else {
            onlyIoEnds = nil
            onlyFolios = nil
            includeInode = true
        }
    }

    mutating func record(_ t: Transition, state: ModelState, at stamp: Stamp) {
        let (_, inodes) = state.footprint(of: t)
        for ref in inodes where ref.ino == ino {
            snapshot(ref, state, t, stamp)
        }
    }

    private mutating func snapshot(_ ref: InodeRef, _ state: ModelState, _ t: Transition, _ stamp: Stamp) {
        let generation = ref.generation
        guard let inode = state.inodes[ref] else {
            change("inode", generation, "gone", t, stamp)
            return
        }
        var before: InodeState?
        if onlyIoEnds == nil {
            before = seen[generation]
            seen[generation] = inode
        } else if includeInode {
            // The extent map alone: it changes seldom, so holding it costs little.
            before = seen[generation]
            var kept = inode
            kept.folios = FolioTable()
            kept.ioEnds = [:]
            seen[generation] = kept
        }
        if includeInode, before?.lifecycle != inode.lifecycle || before?.rsvWorkQueued != inode.rsvWorkQueued {
            change("inode", generation, "\(inode.lifecycle)" + (inode.rsvWorkQueued ? ", conversion work queued" : ""), t, stamp)
        }
        var ioEnds = seenIoEnds.removeValue(forKey: generation) ?? [:]
        compare("io_end", generation, only: onlyIoEnds, seen: &ioEnds, before: before?.ioEnds, now: inode.ioEnds,
                describe: Self.describe, gone: "released", t, stamp)
        seenIoEnds[generation] = ioEnds
        var folios = seenFolios.removeValue(forKey: generation) ?? [:]
        compare("folio", generation, only: onlyFolios, seen: &folios, before: before?.folios, now: inode.folios,
                describe: Self.describe, gone: "not cached", t, stamp)
        seenFolios[generation] = folios
        if includeInode, before?.extents != inode.extents {
            for run in inode.extents.runs where run.state != .hole {
                change("blocks \(run.range)", generation, "\(run.state)", t, stamp)
            }
        }
    }

    /// The changes of one kind of object of an inode (its io_ends, its
    /// folios). Filtered (`only`): each wanted key against what was last
    /// recorded of it (`seen`); else every key against the inode's previous
    /// state (`before`, nil the first time).
    private mutating func compare<Table: KeyedStates>(
        _ kind: String, _ generation: UInt32, only: [Table.Key]?, seen: inout [Table.Key: Table.Value],
        before: Table?, now: Table, describe: (Table.Value) -> String, gone: String,
        _ t: Transition, _ stamp: Stamp
    ) {
        if let only {
            for key in only where seen[key] != now[key] {
                change("\(kind) \(key)", generation, now[key].map(describe) ?? gone, t, stamp)
                seen[key] = now[key]
            }
        } else if before != now {
            for (key, value) in now where before?[key] != value {
                change("\(kind) \(key)", generation, describe(value), t, stamp)
            }
            if let before {
                for (key, _) in before where now[key] == nil {
                    change("\(kind) \(key)", generation, gone, t, stamp)
                }
            }
        }
    }

    static func describe(_ io: IoEndState) -> String {
        var s = "\(io.phase)"
        if !io.flags.isEmpty { s += io.flags.contains(.failed) ? " FAILED" : "" }
        if io.flags.contains(.unwritten) { s += " UNWRITTEN" }
        s += " folios \(io.folios.first.map { "\($0)" } ?? "-")…\(io.folios.last.map { "\($0)" } ?? "-")"
        s += io.writebackEnded ? ", writeback ended" : ""
        return s
    }

    static func describe(_ f: FolioState) -> String {
        var s: [String] = []
        if f.dirty { s.append("dirty") }
        if f.writeback { s.append("writeback") }
        if f.lockedBy != nil { s.append("locked") }
        if f.pte != .none { s.append("pte \(f.pte)") }
        return s.isEmpty ? "clean" : s.joined(separator: ", ")
    }

    private mutating func change(_ key: String, _ generation: UInt32, _ s: String, _ t: Transition, _ stamp: Stamp) {
        let k = generation == 0 ? key : "\(key) #\(generation)"
        guard last[k] != s else { return }
        last[k] = s
        if histories[k] == nil {
            order.append(k)
            histories[k] = ObjectHistory(object: key, generation: generation, changes: [])
        }
        histories[k]!.changes.append(StateChange(eventIndex: stamp.index, timestamp: stamp.timestamp,
                                                 transition: t.kernelFunction, state: s))
    }

    var all: [ObjectHistory] { order.compactMap { histories[$0] } }
}

/// An inode's table of io_ends or of folios, as `HistoryRecorder.compare`
/// reads it: looked up in place, never copied into a dictionary per step.
protocol KeyedStates: Equatable, Sequence where Element == (key: Key, value: Value) {
    associatedtype Key: Hashable
    associatedtype Value: Equatable
    subscript(_ key: Key) -> Value? { get }
}

extension Dictionary: KeyedStates where Value: Equatable {}
extension FolioTable: KeyedStates {}
