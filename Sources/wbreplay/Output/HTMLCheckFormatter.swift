import Replay
import TraceIO
import WritebackModel

/// What `check --format html` renders: the check and, per finding inode,
/// the objects' state histories.
struct HTMLCheckReport {
    var check: CheckReport
    var histories: [UInt64: [ObjectHistory]]
    var metadata: TraceMetadata
}

/// `check --format html`: one self-contained page (inline CSS, SVG and a
/// few lines of script; nothing fetched): a summary of the run (profile,
/// lost windows, divergences), then per finding its explanation, the witness
/// as a timeline with one lane per actor, the witness events, and the state
/// history of the objects they touched.
struct HTMLCheckFormatter: OutputFormatter {
    func write(_ report: HTMLCheckReport, to out: OutputStream) {
        let r = report.check
        out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
        out.write("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        out.write("<meta name=\"generator\" content=\"wbreplay \(WBReplay.configuration.version)\">\n")
        out.write("<meta name=\"wbreplay-schema-version\" content=\"\(Schema.version)\">\n")
        out.write("<title>wbreplay check: \(html(r.trace))</title>\n<style>\(Self.css)</style></head><body>\n")
        out.write("<header><h1>wbreplay check <code>\(html(r.trace))</code></h1>\n")
        out.write("<p class=\"verdicts\"><span class=\"badge \(r.violated > 0 ? "violated" : "clean")\" id=\"count-violated\">\(r.violated) violated</span> ")
        out.write("<span class=\"badge \(r.inconclusive > 0 ? "inconclusive" : "clean")\" id=\"count-inconclusive\">\(r.inconclusive) inconclusive</span></p></header>\n")
        summary(report, out)
        if r.findings.isEmpty {
            out.write("<p class=\"none\">No rule of the model is broken by this trace under \(html(r.choice.profile.rawValue)).</p>\n")
        } else {
            out.write("<nav><label><input type=\"checkbox\" id=\"only-violated\"> only violated</label></nav>\n")
        }
        for (i, f) in r.findings.enumerated() {
            finding(f, number: i + 1, histories: report.histories[f.ino] ?? [], out)
        }
        out.write("<footer>wbreplay \(WBReplay.configuration.version) · event numbers are indexes into the trace: <code>wbreplay why \(html(r.trace)) --event N</code> prints the causal chain of event N.</footer>\n")
        out.write("<script>\(Self.script)</script>\n</body></html>\n")
    }

    private func summary(_ report: HTMLCheckReport, _ out: OutputStream) {
        let r = report.check
        out.write("<section class=\"summary\"><h2>Summary</h2><table>\n")
        row("trace", "<code>\(html(r.trace))</code> (\(html(report.metadata.format.description)))", out)
        if let k = report.metadata.kernelRelease { row("kernel", html(k), out) }
        row("profile", "<b>\(html(r.choice.profile.rawValue))</b>: \(html(r.choice.reason))", out)
        row("events", "\(r.events)", out)
        row("clock", html(r.clock ?? "unknown (text trace)"), out)
        let lost = r.lostEvents == 0 && r.lostWindows.isEmpty ? "none"
            : "\(r.lostEvents) in \(r.lostWindows.count) window(s), \(fixed(r.lostCoverage.fraction * 100, digits: 1))% of the trace's time; verdicts in them are inconclusive"
        row("lost events", lost, out)
        if r.damagedEvents > 0 { row("damaged events", "\(r.damagedEvents) skipped", out) }
        row("divergences", r.divergenceCount == 0 ? "none: the trace fits the profile"
            : "\(r.divergenceCount) step(s) the profile would not take (the replay follows the trace)", out)
        out.write("</table>\n")
        if !r.lostWindows.isEmpty {
            out.write("<h3>Lost windows</h3><table class=\"grid\"><tr><th>cpu</th><th>from (s)</th><th>to (s)</th><th>events lost</th></tr>\n")
            for w in r.lostWindows.prefix(50) {
                out.write("<tr><td>\(w.cpu)</td><td>\(seconds(w.start))</td><td>\(w.end == .max ? "end of trace" : seconds(w.end))</td><td>\(w.count.map(String.init) ?? "unknown")</td></tr>\n")
            }
            out.write("</table>\n")
        }
        if !r.divergences.isEmpty {
            out.write("<h3>First divergences</h3><table class=\"grid\"><tr><th>event</th><th>transition</th><th>object</th><th>why</th></tr>\n")
            for d in r.divergences.prefix(10) {
                out.write("<tr><td>#\(d.eventIndex)</td><td><code>\(html(d.kernelFunction))</code></td><td>\(html(d.object))</td><td>\(html(d.reason))</td></tr>\n")
            }
            out.write("</table>\n")
        }
        out.write("</section>\n")
    }

    private func row(_ key: String, _ value: String, _ out: OutputStream) {
        out.write("<tr><th>\(key)</th><td>\(value)</td></tr>\n")
    }

    private func finding(_ f: Finding, number: Int, histories: [ObjectHistory], _ out: OutputStream) {
        let object = "\(f.dev):\(f.ino)" + (f.generation > 0 ? "#\(f.generation)" : "")
        let blocks = f.len == 0 ? "block \(f.lblk)" : "blocks \(f.lblk)–\(f.lblk + f.len - 1)"
        out.write("<section class=\"finding \(f.verdict.rawValue)\" id=\"finding-\(number)\" data-rule=\"\(f.rule.rawValue)\" data-verdict=\"\(f.verdict.rawValue)\">\n")
        out.write("<h2><span class=\"badge \(f.verdict.rawValue)\">\(f.verdict == .violated ? "VIOLATED" : "INCONCLUSIVE")</span> ")
        out.write("<span class=\"rule\">\(f.rule.rawValue)</span> <span class=\"where\">inode \(object) · \(blocks) · \(seconds(f.timestamp)) s · event #\(f.eventIndex)</span></h2>\n")
        out.write("<p class=\"rulehelp\">\(html(RuleHelp.summary(f.rule))).</p>\n")
        out.write("<p class=\"explanation\">\(html(f.explanation))</p>\n")
        if let why = f.inconclusiveReason { out.write("<p class=\"inconclusive-reason\">Inconclusive: \(html(why)).</p>\n") }
        out.write("<h3>Witness</h3>\n")
        out.write(WitnessTimeline(finding: f).svg())
        out.write("<table class=\"grid witness\"><tr><th>event</th><th>time (s)</th><th>cpu</th><th>actor</th><th>tracepoint</th><th>what the model did</th></tr>\n")
        for w in f.witness {
            let mark = w.index == f.eventIndex ? " class=\"decisive\"" : ""
            out.write("<tr\(mark)><td>#\(w.index)</td><td>\(seconds(w.timestamp))</td><td>\(w.cpu)</td><td>\(html(f.actors[w.actor].name))</td><td><code>\(html(w.name))</code></td><td>\(html(w.role))</td></tr>\n")
        }
        out.write("</table>\n")
        let (shown, omitted) = FindingHistories.relevant(histories, to: f)
        out.write("<h3>State history</h3>\n")
        if shown.isEmpty {
            out.write("<p class=\"none\">No object of inode \(f.ino) changed state at a witness event.</p>\n")
        }
        for h in shown {
            out.write("<details\(h.changes.count <= 12 ? " open" : "")><summary>\(html(h.object)) <span class=\"dim\">(\(h.changes.count) change(s))</span></summary>")
            out.write("<table class=\"grid history\"><tr><th>event</th><th>time (s)</th><th>transition</th><th>state</th></tr>\n")
            let witness = Set(f.witness.map(\.index))
            for c in h.changes.suffix(60) {
                out.write("<tr\(witness.contains(c.eventIndex) ? " class=\"decisive\"" : "")><td>#\(c.eventIndex)</td><td>\(seconds(c.timestamp))</td><td><code>\(html(c.transition))</code></td><td>\(html(c.state))</td></tr>\n")
            }
            out.write("</table></details>\n")
        }
        if omitted > 0 {
            out.write("<p class=\"dim\">\(omitted) other object(s) of the inode: <code>wbreplay replay TRACE --ino \(f.ino)</code> lists every one.</p>\n")
        }
        out.write("</section>\n")
    }

    static let css = """
    body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:1em 2em;color:#1d1f23;background:#fafafa}
    h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.15em;margin:.3em 0}h3{font-size:1em;margin:1em 0 .3em}
    code{font:12.5px ui-monospace,"DejaVu Sans Mono",monospace}
    .badge{display:inline-block;padding:.05em .5em;border-radius:.3em;font-weight:700;font-size:.9em;color:#fff}
    .badge.violated{background:#c62828}.badge.inconclusive{background:#b07b00}.badge.clean{background:#2e7d32}
    section{background:#fff;border:1px solid #ddd;border-radius:.5em;padding:.8em 1.2em;margin:1em 0}
    section.finding.violated{border-left:6px solid #c62828}section.finding.inconclusive{border-left:6px solid #b07b00}
    .rule{font-family:ui-monospace,monospace}.where,.dim{color:#666;font-weight:400;font-size:.9em}
    .rulehelp{color:#444;font-style:italic;margin:.2em 0}
    table{border-collapse:collapse}th{text-align:left;padding:.15em .8em .15em 0;vertical-align:top;color:#444}
    table.grid td,table.grid th{border-bottom:1px solid #eee;padding:.15em .6em;font-size:.92em}
    tr.decisive td{background:#fdecec}
    details{margin:.2em 0}summary{cursor:pointer}
    svg.timeline{display:block;max-width:100%;height:auto;margin:.4em 0}
    footer{color:#777;font-size:.85em;margin:2em 0}
    nav{margin:.5em 0}
    """

    static let script = """
    document.getElementById('only-violated')?.addEventListener('change',e=>{
      for(const s of document.querySelectorAll('section.finding'))
        s.style.display=(e.target.checked&&s.dataset.verdict!=='violated')?'none':'';
    });
    """
}

/// The witness of a finding as the seeds draw races: one lane (column) per
/// actor, time going down, each event a box in its actor's lane, arrows
/// between consecutive events of the witness, the decisive event in red.
struct WitnessTimeline {
    let finding: Finding
    let laneWidth = 210, rowHeight = 38, top = 46, left = 150

    func svg() -> String {
        let f = finding
        let width = left + max(1, f.actors.count) * laneWidth + 10
        let height = top + f.witness.count * rowHeight + 12
        var s = "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"witness timeline\">\n"
        s += "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#777\"/></marker></defs>\n"
        for (a, actor) in f.actors.enumerated() {
            let x = left + a * laneWidth + laneWidth / 2
            s += "<text x=\"\(x)\" y=\"18\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"700\" font-family=\"monospace\" fill=\"\(colour(actor.kind))\">\(html(actor.name))</text>\n"
            s += "<text x=\"\(x)\" y=\"32\" text-anchor=\"middle\" font-size=\"10\" fill=\"#777\">\(actor.kind.rawValue)</text>\n"
            s += "<line x1=\"\(x)\" y1=\"38\" x2=\"\(x)\" y2=\"\(height - 6)\" stroke=\"#ccc\" stroke-dasharray=\"4 3\"/>\n"
        }
        var previous: (x: Int, y: Int)?
        for (row, w) in f.witness.enumerated() {
            let cx = left + w.actor * laneWidth + laneWidth / 2
            let y = top + row * rowHeight
            let decisive = w.index == f.eventIndex
            s += "<text x=\"4\" y=\"\(y + 15)\" font-size=\"10.5\" font-family=\"monospace\" fill=\"#555\">#\(w.index) \(seconds(w.timestamp))</text>\n"
            if let p = previous {
                s += "<line x1=\"\(p.x)\" y1=\"\(p.y + 24)\" x2=\"\(cx)\" y2=\"\(y)\" stroke=\"#777\" stroke-width=\"1\" marker-end=\"url(#arrow)\"/>\n"
            }
            let name = w.name.count > 28 ? String(w.name.prefix(27)) + "…" : w.name
            s += "<g class=\"event\" data-event=\"\(w.index)\"><title>#\(w.index) \(html(w.name)) (cpu \(w.cpu)): \(html(w.role))</title>"
            s += "<rect x=\"\(cx - laneWidth / 2 + 6)\" y=\"\(y)\" width=\"\(laneWidth - 12)\" height=\"24\" rx=\"5\" fill=\"\(decisive ? "#fdecec" : "#f3f6fb")\" stroke=\"\(decisive ? "#c62828" : "#8aa0c0")\" stroke-width=\"\(decisive ? 2 : 1)\"/>"
            s += "<text x=\"\(cx)\" y=\"\(y + 16)\" text-anchor=\"middle\" font-size=\"11\" font-family=\"monospace\">\(html(name))</text></g>\n"
            previous = (cx, y)
        }
        return s + "</svg>\n"
    }

    private func colour(_ kind: ActorKind) -> String {
        switch kind {
        case .task: return "#1f4e9c"
        case .kworker: return "#2e7d32"
        case .irq: return "#8e24aa"
        }
    }
}

/// Text as HTML (element content and attribute values).
func html(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for ch in s {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(ch)
        }
    }
    return out
}
