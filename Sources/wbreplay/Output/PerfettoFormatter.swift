import EventGraph
import Replay

/// What `export --format perfetto` renders.
struct PerfettoExport {
    var trace: String
    var graph: EventGraph
    var check: CheckReport
}

/// The Chrome JSON trace format (`{"traceEvents": [...]}`), as the Perfetto
/// UI and chrome://tracing read it. Timestamps are microseconds with the
/// nanoseconds as decimals. Tracks:
/// - process 1 "tasks": a thread per task; every event a slice (`X`) on it,
///   zero-length, and syscalls (enter → exit), kernel function spans
///   (start → end) and work executions as slices with their duration;
/// - process 2 "CPUs": a thread per CPU with the same events;
/// - process 3 "I/O and work": work items (queued → ended) and block I/O
///   (bio queued → completed) as async slices (`b`/`e`);
/// - each finding an instant event (`i`, global) and a flow (`s`, `t`, `f`)
///   through its witness events, bound to their slices on the task tracks.
struct PerfettoFormatter: OutputFormatter {
    static let tasks = 1, cpus = 2, async = 3

    func write(_ x: PerfettoExport, to out: OutputStream) {
        let g = x.graph
        var first = true
        func event(_ body: () -> Void) {
            out.write(first ? "\n" : ",\n")
            first = false
            body()
        }
        out.write("{\"displayTimeUnit\": \"ns\", \"otherData\": {\"schema_version\": \(Schema.version), \"trace\": ")
        JSONBytes.string(x.trace, to: out)
        out.write(", \"profile\": "); JSONBytes.string(x.check.choice.profile.rawValue, to: out)
        out.write(", \"generator\": \"wbreplay \(WBReplay.configuration.version)\"}, \"traceEvents\": [")
        for (pid, name) in [(Self.tasks, "tasks"), (Self.cpus, "CPUs"), (Self.async, "I/O and work")] {
            event { meta("process_name", pid: pid, tid: 0, name: name, out) }
        }
        var threads: Set<Int64> = []
        var cpusSeen: Set<Int> = []
        for i in 0..<g.eventCount {
            let n = g.node(i)
            let tid = Self.taskTrack(n)
            if threads.insert(tid).inserted {
                event { meta("thread_name", pid: Self.tasks, tid: tid, name: n.pid == 0 ? "idle / irq (cpu \(n.cpu))" : "\(n.comm)-\(n.pid)", out) }
            }
            if cpusSeen.insert(n.cpu).inserted {
                event { meta("thread_name", pid: Self.cpus, tid: Int64(n.cpu), name: "cpu \(n.cpu)", out) }
            }
            event { slice(n.name, pid: Self.tasks, tid: tid, ts: n.timestamp, dur: 0, args: n, out) }
            event { slice(n.name, pid: Self.cpus, tid: Int64(n.cpu), ts: n.timestamp, dur: 0, args: n, out) }
            // Spans with a duration: syscalls, kernel function start → end.
            for e in g.outgoing(i) where e.kind == .syscall || e.kind == .span {
                let end = g.node(e.to)
                guard end.timestamp >= n.timestamp else { continue }
                event { slice(Self.spanName(n.name), pid: Self.tasks, tid: tid, ts: n.timestamp, dur: end.timestamp - n.timestamp, args: n, out) }
            }
        }
        for (k, w) in g.workItems.enumerated() {
            guard let from = w.queued ?? w.activated ?? w.started, let to = w.ended ?? w.started, to > from else { continue }
            event { asyncEvent("b", "work", id: "work\(k)", name: w.key.function, ts: g.timestamp(from), out) }
            event { asyncEvent("e", "work", id: "work\(k)", name: w.key.function, ts: g.timestamp(to), out) }
            if let s = w.started, let e = w.ended, e > s {
                let n = g.node(s)
                event { slice("work \(w.key.function)", pid: Self.tasks, tid: Self.taskTrack(n), ts: n.timestamp, dur: g.timestamp(e) - n.timestamp, args: n, out) }
            }
        }
        for (start, end) in Self.blockIO(g) {
            event { asyncEvent("b", "block", id: "bio\(start)", name: "block I/O", ts: g.timestamp(start), out) }
            event { asyncEvent("e", "block", id: "bio\(start)", name: "block I/O", ts: g.timestamp(end), out) }
        }
        for (k, f) in x.check.findings.enumerated() {
            let title = "\(f.verdict == .violated ? "VIOLATED" : "INCONCLUSIVE") \(f.rule.rawValue)"
            event {
                out.write("{\"ph\": \"i\", \"s\": \"g\", \"cat\": \"finding\", \"name\": "); JSONBytes.string(title, to: out)
                out.write(", \"pid\": \(Self.tasks), \"tid\": 0, \"ts\": "); micro(f.timestamp, out)
                out.write(", \"args\": {\"explanation\": "); JSONBytes.string(f.explanation, to: out)
                out.write(", \"inode\": "); JSONBytes.string("\(f.dev):\(f.ino)", to: out)
                out.write(", \"event\": \(f.eventIndex)}}")
            }
            for (j, w) in f.witness.enumerated() where g.contains(event: w.index) {
                let phase = j == 0 ? "s" : (j == f.witness.count - 1 ? "f" : "t")
                let n = g.node(w.index)
                event {
                    out.write("{\"ph\": \"\(phase)\", \"cat\": \"witness\", \"id\": \(k + 1), \"name\": "); JSONBytes.string(title, to: out)
                    out.write(", \"pid\": \(Self.tasks), \"tid\": \(Self.taskTrack(n)), \"ts\": "); micro(n.timestamp, out)
                    out.write(phase == "s" ? "}" : ", \"bp\": \"e\"}")
                }
            }
        }
        out.write("\n]}\n")
    }

    /// Idle and interrupt context (pid 0) is one track per CPU.
    static func taskTrack(_ n: EventNode) -> Int64 { n.pid == 0 ? -1 - Int64(n.cpu) : Int64(n.pid) }

    /// "sys_enter_fsync" → "fsync", "ext4_sync_file_enter" → "ext4_sync_file".
    static func spanName(_ start: String) -> String {
        if start.hasPrefix("sys_enter_") { return String(start.dropFirst("sys_enter_".count)) }
        for suffix in ["_enter", "_start"] where start.hasSuffix(suffix) { return String(start.dropLast(suffix.count)) }
        return start
    }

    /// Block I/O from its first event (no block_io edge into it) to the
    /// last one its block_io edges reach.
    static func blockIO(_ g: EventGraph) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        for i in 0..<g.eventCount {
            let next = g.outgoing(i).filter { $0.kind == .blockIO }
            guard !next.isEmpty, !g.incoming(i).contains(where: { $0.kind == .blockIO }) else { continue }
            var end = i
            var step = next.map(\.to).max()
            var hops = 0
            while let s = step, hops < 16 {
                end = s
                step = g.outgoing(s).filter { $0.kind == .blockIO }.map(\.to).max()
                hops += 1
            }
            if end > i { out.append((i, end)) }
        }
        return out
    }

    private func meta(_ kind: String, pid: Int, tid: Int64, name: String, _ out: OutputStream) {
        out.write("{\"ph\": \"M\", \"name\": \"\(kind)\", \"pid\": \(pid), \"tid\": \(tid), \"args\": {\"name\": ")
        JSONBytes.string(name, to: out)
        out.write("}}")
    }

    private func slice(_ name: String, pid: Int, tid: Int64, ts: UInt64, dur: UInt64, args n: EventNode, _ out: OutputStream) {
        out.write("{\"ph\": \"X\", \"cat\": \"event\", \"name\": "); JSONBytes.string(name, to: out)
        out.write(", \"pid\": \(pid), \"tid\": \(tid), \"ts\": "); micro(ts, out)
        out.write(", \"dur\": "); micro(dur, out)
        out.write(", \"args\": {\"index\": \(n.index), \"cpu\": \(n.cpu)")
        if let inode = n.inode { out.write(", \"inode\": "); JSONBytes.string(inode.description, to: out) }
        out.write("}}")
    }

    private func asyncEvent(_ phase: String, _ cat: String, id: String, name: String, ts: UInt64, _ out: OutputStream) {
        out.write("{\"ph\": \"\(phase)\", \"cat\": \"\(cat)\", \"id\": \"\(id)\", \"name\": "); JSONBytes.string(name, to: out)
        out.write(", \"pid\": \(Self.async), \"tid\": 0, \"ts\": "); micro(ts, out)
        out.write("}")
    }

    /// Nanoseconds as microseconds with three decimals.
    private func micro(_ ns: UInt64, _ out: OutputStream) {
        out.write(decimal: ns / 1000)
        let frac = ns % 1000
        out.write(byte: UInt8(ascii: "."))
        out.write(frac < 100 ? (frac < 10 ? "00" : "0") : "")
        out.write(decimal: frac)
    }
}
