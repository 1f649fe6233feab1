import Foundation
import TraceIO

/// Writes a case for a human to read: the mutated trace and its twin as
/// ftrace text, and a note with what was injected and what is expected.
///
/// Events print as the tracefs `trace` file prints them
/// (`comm-pid [cpu] TIMESTAMP: event: fields`): a text-sourced event with
/// its recorded (or consistently rewritten) line, a trace.dat-sourced one
/// with its fields as `name=value`, as `wbreplay events --format text` does.
public enum CaseWriter {
    public static func write(_ c: MutationCase, to directory: String) throws {
        let dir = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let base = dir.appendingPathComponent(c.id.slug)
        try text(c.bug, title: "\(c.id) — bug").write(to: base.appendingPathExtension("bug.txt"), atomically: true, encoding: .utf8)
        try text(c.twin, title: "\(c.id) — twin").write(to: base.appendingPathExtension("twin.txt"), atomically: true, encoding: .utf8)
        try note(c).write(to: base.appendingPathExtension("md"), atomically: true, encoding: .utf8)
    }

    public static func note(_ c: MutationCase) -> String {
        """
        # \(c.id)

        Source: \(c.sourcePath)

        Injected: \(c.story)

        Twin: \(c.twinStory)

        Expected: \(c.expected)

        Deciding events: \(c.expected.first) and \(c.expected.second) (\(c.expected.ordering)); clock \(c.bug.metadata.clock ?? "unknown").

        """
    }

    public static func text(_ t: CaseTrace, title: String) -> String {
        let n = t.eventCount
        var out = "# tracer: nop\n#\n# entries-in-buffer/entries-written: \(n)/\(n)   #P:\(t.metadata.cpuCount ?? 2)\n#\n"
        out += "# \(title); trace clock \(t.metadata.clock ?? "unknown")\n#\n"
        for r in t.records {
            switch r {
            case .lost(let l):
                out += "CPU:\(l.cpu) [LOST \(l.count.map(String.init) ?? "") EVENTS]\n"
            case .event(let e):
                out += line(e) + "\n"
            }
        }
        return out
    }

    /// One event as tracefs prints it (the irq/preempt flags column, which
    /// the readers do not keep, prints as `.....`).
    public static func line(_ e: TraceEvent) -> String {
        let task = "\(e.comm)-\(e.pid)"
        let padded = String(repeating: " ", count: max(0, 16 - task.count)) + task
        let cpu = String(e.cpu)
        let us = e.timestamp / 1000
        let frac = String(us % 1_000_000)
        let ts = "\(us / 1_000_000)." + String(repeating: "0", count: 6 - frac.count) + frac
        let body: String
        if let raw = e.rawText {
            if e.name.hasPrefix("sys_enter_") {
                body = "sys_\(e.name.dropFirst(10))(\(raw))"
            } else if e.name.hasPrefix("sys_exit_") {
                body = "sys_\(e.name.dropFirst(9)) -> \(raw)"
            } else {
                body = "\(e.name): \(raw)"
            }
        } else {
            body = "\(e.name): " + e.fields.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
        }
        return "\(padded) [\(String(repeating: "0", count: max(0, 3 - cpu.count)) + cpu)] ..... \(ts): \(body)"
    }
}
