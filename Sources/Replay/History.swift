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
struct HistoryRecorder {
    let ino: UInt64
    private var last: [String: String] = [:]
    private var order: [String] = []
    private var histories: [String: ObjectHistory] = [:]

    init(ino: UInt64) { self.ino = ino }

    mutating func record(_ t: Transition, state: ModelState, at stamp: Stamp) {
        let (_, inodes) = state.footprint(of: t)
        for ref in inodes where ref.ino == ino {
            snapshot(ref, state, t, stamp)
        }
    }

    private mutating func snapshot(_ ref: InodeRef, _ state: ModelState, _ t: Transition, _ stamp: Stamp) {
        guard let inode = state.inodes[ref] else {
            change("inode", ref.generation, "gone", t, stamp)
            return
        }
        change("inode", ref.generation, "\(inode.lifecycle)" + (inode.rsvWorkQueued ? ", conversion work queued" : ""), t, stamp)
        var seen: Set<String> = []
        for (serial, io) in inode.ioEnds {
            let key = "io_end \(serial)"
            seen.insert(key)
            var s = "\(io.phase)"
            if !io.flags.isEmpty { s += io.flags.contains(.failed) ? " FAILED" : "" }
            if io.flags.contains(.unwritten) { s += " UNWRITTEN" }
            s += " folios \(io.folios.first.map { "\($0)" } ?? "-")…\(io.folios.last.map { "\($0)" } ?? "-")"
            s += io.writebackEnded ? ", writeback ended" : ""
            change(key, ref.generation, s, t, stamp)
        }
        for key in order where key.hasPrefix("io_end ") && !seen.contains(key) && histories[key]?.generation == ref.generation {
            change(key, ref.generation, "released", t, stamp)
        }
        for (index, f) in inode.folios {
            var s: [String] = []
            if f.dirty { s.append("dirty") }
            if f.writeback { s.append("writeback") }
            if f.lockedBy != nil { s.append("locked") }
            if f.pte != .none { s.append("pte \(f.pte)") }
            change("folio \(index)", ref.generation, s.isEmpty ? "clean" : s.joined(separator: ", "), t, stamp)
        }
        for key in order where key.hasPrefix("folio ") && last[key] != "not cached" {
            let index = UInt64(key.dropFirst(6)) ?? 0
            if inode.folios[index] == nil { change(key, ref.generation, "not cached", t, stamp) }
        }
        for run in inode.extents.runs where run.state != .hole {
            change("blocks \(run.range)", ref.generation, "\(run.state)", t, stamp)
        }
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
