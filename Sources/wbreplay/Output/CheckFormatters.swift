import Replay
import TraceIO
import WritebackModel

/// `check --format json` (docs/cli.md): the profile and why, lost windows,
/// divergences, and per finding its rule, verdict, object, witness events
/// and actors.
struct JSONCheckFormatter: OutputFormatter {
    func write(_ r: CheckReport, to out: OutputStream) {
        out.write("{\"schema_version\": "); out.write(decimal: UInt64(Schema.version))
        out.write(", \"trace\": "); JSONBytes.string(r.trace, to: out)
        out.write(", \"profile\": "); JSONBytes.string(r.choice.profile.rawValue, to: out)
        out.write(", \"profile_reason\": "); JSONBytes.string(r.choice.reason, to: out)
        out.write(", \"events\": "); out.write(decimal: UInt64(r.events))
        out.write(", \"lost_events\": "); out.write(decimal: r.lostEvents)
        out.write(", \"lost_windows\": [")
        for (i, w) in r.lostWindows.enumerated() {
            if i > 0 { out.write(", ") }
            out.write("{\"cpu\": "); out.write(decimal: UInt64(w.cpu))
            out.write(", \"start_ns\": "); out.write(decimal: w.start)
            out.write(", \"end_ns\": ")
            if w.end == .max { out.write("null") } else { out.write(decimal: w.end) }
            out.write(", \"count\": ")
            if let n = w.count { out.write(decimal: n) } else { out.write("null") }
            out.write("}")
        }
        out.write("], \"lost_time_ns\": "); out.write(decimal: r.lostCoverage.lostNanoseconds)
        out.write(", \"lost_time_fraction\": "); out.write(fixed(r.lostCoverage.fraction, digits: 6))
        out.write(", \"damaged_events\": "); out.write(decimal: UInt64(r.damagedEvents))
        out.write(", \"clock\": ")
        if let c = r.clock { JSONBytes.string(c, to: out) } else { out.write("null") }
        out.write(", \"divergences\": "); out.write(decimal: UInt64(r.divergenceCount))
        out.write(", \"findings\": [")
        for (i, f) in r.findings.enumerated() {
            if i > 0 { out.write(", ") }
            finding(f, out)
        }
        out.write("], \"summary\": {\"violated\": "); out.write(decimal: UInt64(r.violated))
        out.write(", \"inconclusive\": "); out.write(decimal: UInt64(r.inconclusive))
        out.write("}}\n")
    }

    private func finding(_ f: Finding, _ out: OutputStream) {
        out.write("{\"rule\": "); JSONBytes.string(f.rule.rawValue, to: out)
        out.write(", \"verdict\": "); JSONBytes.string(f.verdict.rawValue, to: out)
        out.write(", \"dev\": "); JSONBytes.string(f.dev.description, to: out)
        out.write(", \"ino\": "); out.write(decimal: f.ino)
        out.write(", \"generation\": "); out.write(decimal: UInt64(f.generation))
        out.write(", \"lblk\": "); out.write(decimal: f.lblk)
        out.write(", \"len\": "); out.write(decimal: f.len)
        out.write(", \"ts_ns\": "); out.write(decimal: f.timestamp)
        out.write(", \"event\": "); out.write(decimal: UInt64(f.eventIndex))
        out.write(", \"witness\": [")
        out.write(f.witness.map { String($0.index) }.joined(separator: ", "))
        out.write("], \"explanation\": "); JSONBytes.string(f.explanation, to: out)
        if let why = f.inconclusiveReason {
            out.write(", \"inconclusive_reason\": "); JSONBytes.string(why, to: out)
        }
        out.write(", \"deciding\": [")
        for (i, p) in f.deciding.enumerated() {
            if i > 0 { out.write(", ") }
            out.write("{\"before\": "); out.write(decimal: UInt64(p.before.index))
            out.write(", \"before_role\": "); JSONBytes.string(p.before.role, to: out)
            out.write(", \"after\": ")
            if let a = p.after { out.write(decimal: UInt64(a.index)) } else { out.write("null") }
            out.write(", \"after_role\": "); JSONBytes.string(p.afterRole, to: out)
            out.write(", \"ordered_by\": ")
            if let e = p.evidence { JSONBytes.string(e, to: out) } else { out.write("null") }
            out.write("}")
        }
        out.write("], \"actors\": [")
        for (i, a) in f.actors.enumerated() {
            if i > 0 { out.write(", ") }
            out.write("{\"name\": "); JSONBytes.string(a.name, to: out)
            out.write(", \"kind\": "); JSONBytes.string(a.kind.rawValue, to: out); out.write("}")
        }
        out.write("]}")
    }
}

/// `check --format text`: per finding the rule, dev:ino, block range, time,
/// the explanation, the witness events and an n-column diagram of the
/// actors, like the diagrams in the seeds' threads.
struct TextCheckFormatter: OutputFormatter {
    var palette = Palette.plain

    func write(_ r: CheckReport, to out: OutputStream) {
        out.write("\(r.trace): \(r.events) events, profile \(r.choice.profile) (\(r.choice.reason))\n")
        if r.lostEvents > 0 || !r.lostWindows.isEmpty {
            let percent = fixed(r.lostCoverage.fraction * 100, digits: 1)
            out.write("lost events: \(r.lostEvents) in \(r.lostWindows.count) window(s), covering \(percent)% of the trace's time; verdicts in those windows are inconclusive\n")
        }
        if r.damagedEvents > 0 {
            out.write("damaged events: \(r.damagedEvents) skipped (garbled lines or damaged records)\n")
        }
        out.write("clock: \(r.clock ?? "unknown (text trace)")\n")
        if r.divergenceCount > 0 {
            out.write("the trace diverges from \(r.choice.profile) at \(r.divergenceCount) step(s):\n")
            for d in r.divergences.prefix(5) {
                out.write("  event \(d.eventIndex): \(d.kernelFunction) on \(d.object): \(d.reason)\n")
            }
        }
        for f in r.findings { finding(f, out) }
        let violated = "\(r.violated) violated"
        let inconclusive = "\(r.inconclusive) inconclusive"
        out.write("\n" + (r.violated > 0 ? palette.violated(violated) : palette.clean(violated)) + ", "
                  + (r.inconclusive > 0 ? palette.inconclusive(inconclusive) : inconclusive) + "\n")
    }

    private func finding(_ f: Finding, _ out: OutputStream) {
        let range = f.len == 0 ? "block \(f.lblk)" : "blocks \(f.lblk)-\(f.lblk + f.len - 1)"
        let gen = f.generation > 0 ? "#\(f.generation)" : ""
        let verdict = f.verdict == .violated ? palette.violated("VIOLATED") : palette.inconclusive("INCONCLUSIVE")
        out.write("\n\(verdict) \(f.rule)  \(f.dev):\(f.ino)\(gen)  \(range)  at \(seconds(f.timestamp)) s (event \(f.eventIndex))\n")
        out.write(wrap(f.explanation, indent: "  "))
        if let why = f.inconclusiveReason { out.write(wrap("Inconclusive: \(why).", indent: "  ")) }
        for p in f.deciding {
            let after = p.after.map { "#\($0.index) \($0.name)" } ?? "never (end of the trace)"
            let how = p.evidence.map { "ordered by \($0)" } ?? (p.after == nil ? "" : "NOT ORDERED")
            out.write("  decided by: #\(p.before.index) \(p.before.name) (\(p.before.role)) before \(after) (\(p.afterRole))"
                      + (how.isEmpty ? "" : ": \(how)") + "\n")
        }
        out.write("  witness:\n")
        for w in f.witness {
            out.write("    #\(w.index)  \(seconds(w.timestamp))  cpu \(w.cpu)  \(f.actors[w.actor].name)  \(w.name): \(w.role)\n")
        }
        diagram(f, out)
    }

    /// One column per actor, time going down, each event in its actor's column.
    private func diagram(_ f: Finding, _ out: OutputStream) {
        guard !f.actors.isEmpty else { return }
        let width = max(24, f.actors.map { $0.name.count + 2 }.max() ?? 24)
        func cell(_ s: String) -> String {
            let t = s.count > width - 1 ? String(s.prefix(width - 2)) + "…" : s
            return t + String(repeating: " ", count: max(0, width - t.count))
        }
        out.write("  diagram:\n    " + f.actors.map { cell($0.name) }.joined() + "\n")
        out.write("    " + f.actors.map { _ in cell(String(repeating: "-", count: width - 2)) }.joined() + "\n")
        for w in f.witness {
            var row = ""
            for column in f.actors.indices {
                row += cell(column == w.actor ? w.name : "|")
            }
            out.write("    " + row.trimmingTrailingSpaces() + "\n")
        }
    }

    private func wrap(_ text: String, indent: String, width: Int = 100) -> String {
        var lines: [String] = []
        var line = indent
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > width, line.count > indent.count {
                lines.append(line)
                line = indent
            }
            line += (line.count > indent.count ? " " : "") + word
        }
        if line.count > indent.count { lines.append(line) }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `value` with `digits` decimals (no Foundation formatting in the output path).
func fixed(_ value: Double, digits: Int) -> String {
    var scale: UInt64 = 1
    for _ in 0..<digits { scale *= 10 }
    let scaled = UInt64((max(0, value) * Double(scale)).rounded())
    let frac = String(scaled % scale)
    return "\(scaled / scale)." + String(repeating: "0", count: digits - frac.count) + frac
}

func seconds(_ ns: UInt64) -> String {
    let us = ns / 1000
    let frac = String(us % 1_000_000)
    return "\(us / 1_000_000)." + String(repeating: "0", count: 6 - frac.count) + frac
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// `replay --ino N --format text`: each object of the inode and the states it went through.
struct TextHistoryFormatter: OutputFormatter {
    let ino: UInt64
    func write(_ r: CheckReport, to out: OutputStream) {
        out.write("\(r.trace): inode \(ino), profile \(r.choice.profile) (\(r.choice.reason))\n")
        if r.histories.isEmpty { out.write("no object of inode \(ino) in this trace\n") }
        for h in r.histories {
            out.write("\n\(h.object)\(h.generation > 0 ? " (generation \(h.generation))" : "")\n")
            for c in h.changes {
                out.write("  #\(c.eventIndex)  \(seconds(c.timestamp))  \(c.transition) → \(c.state)\n")
            }
        }
    }
}

struct JSONHistoryFormatter: OutputFormatter {
    let ino: UInt64
    func write(_ r: CheckReport, to out: OutputStream) {
        out.write("{\"schema_version\": "); out.write(decimal: UInt64(Schema.version))
        out.write(", \"trace\": "); JSONBytes.string(r.trace, to: out)
        out.write(", \"profile\": "); JSONBytes.string(r.choice.profile.rawValue, to: out)
        out.write(", \"ino\": "); out.write(decimal: ino)
        out.write(", \"objects\": [")
        for (i, h) in r.histories.enumerated() {
            if i > 0 { out.write(", ") }
            out.write("{\"object\": "); JSONBytes.string(h.object, to: out)
            out.write(", \"generation\": "); out.write(decimal: UInt64(h.generation))
            out.write(", \"states\": "); JSONBytes.stateChanges(h.changes, to: out)
            out.write("}")
        }
        out.write("]}\n")
    }
}
