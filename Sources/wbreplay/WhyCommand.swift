import ArgumentParser
import EventGraph
import TraceIO

struct WhyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "why",
        abstract: "The causal chain that leads to one event: what had to happen before it, and why.",
        discussion: "INDEX is the event's 0-based position in the trace, as `wbreplay events` numbers them (#N, \"index\") and `check` cites them in witnesses. --format dot draws the chain one column per task, time going down (`dot -Tsvg`)."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, dot }

    @OptionGroup var trace: TraceFileOptions

    @Option(help: "Output format: text, json or dot.")
    var format: Format = .text

    @Option(help: "The event's index (0-based, in timestamp order).")
    var event: Int

    @Option(help: "At most this many events in the chain.")
    var limit: Int = 40

    func validate() throws {
        guard event >= 0 else { throw ValidationError("--event must be 0 or more") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    /// The chain is found in passes over the trace that keep only the events
    /// around its steps (`StreamedCausalChain`); the graph of the whole trace
    /// is built only when that cannot tell the whole graph's answer.
    func run() throws {
        let report: CausalChainReport
        switch try StreamedCausalChain.find(to: event, limit: limit, open: { try trace.open(label: "why") }).answer {
        case .chain(let found):
            report = found
        case .outOfRange(let events):
            throw CommandError(Self.outOfRange("--event", event, events: events))
        case .needsWholeGraph:
            let graph = try EventGraph.build(from: trace.open(label: "why (whole graph)"))
            report = graph.causalChainReport(to: event, limit: limit)
        }
        let out = OutputStream()
        switch format {
        case .text: CausalChainTextFormatter().write(report, to: out)
        case .json: CausalChainJSONFormatter(trace: trace.file).write(report, to: out)
        case .dot:
            let title = "\(trace.file): why event \(event) (\(report.node(event).name))"
            SubgraphOutput(renderer: LaneDOTFormatter(title: title, highlighted: [event])).write(report.subgraph, to: out)
        }
        out.flush()
    }

    static func outOfRange(_ option: String, _ index: Int, events: Int) -> String {
        "\(option) \(index): the trace has \(events) events (0…\(max(0, events - 1)))"
    }
}

/// `why --format json`: `{"schema_version", "trace", "target", "truncated",
/// "steps": [{"index", "ts_ns", "cpu", "pid", "comm", "event", "inode",
/// "causes": [{"from", "kind"}], "skipped_events", "omitted_causes"}]}`.
struct CausalChainJSONFormatter: OutputFormatter {
    let trace: String

    func write(_ report: CausalChainReport, to out: OutputStream) {
        let chain = report.chain
        out.write("{\"schema_version\": "); out.write(decimal: UInt64(Schema.version))
        out.write(", \"trace\": "); JSONBytes.string(trace, to: out)
        out.write(", \"target\": "); out.write(decimal: UInt64(chain.target))
        out.write(", \"truncated\": \(chain.truncated), \"steps\": [")
        for (i, step) in chain.steps.enumerated() {
            let n = report.node(step.node)
            if i > 0 { out.write(", ") }
            out.write("{\"index\": "); out.write(decimal: UInt64(n.index))
            out.write(", \"ts_ns\": "); out.write(decimal: n.timestamp)
            out.write(", \"cpu\": "); out.write(decimal: UInt64(n.cpu))
            out.write(", \"pid\": "); out.write(decimal: Int64(n.pid))
            out.write(", \"comm\": "); JSONBytes.string(n.comm, to: out)
            out.write(", \"event\": "); JSONBytes.string(n.name, to: out)
            out.write(", \"inode\": ")
            if let inode = n.inode { JSONBytes.string(inode.description, to: out) } else { out.write("null") }
            out.write(", \"causes\": [")
            for (j, c) in step.causes.enumerated() {
                if j > 0 { out.write(", ") }
                out.write("{\"from\": "); out.write(decimal: UInt64(c.from))
                out.write(", \"kind\": "); JSONBytes.string(c.kind.name, to: out); out.write("}")
            }
            out.write("], \"skipped_events\": "); out.write(decimal: UInt64(step.skippedEvents))
            out.write(", \"omitted_causes\": "); out.write(decimal: UInt64(step.omittedCauses))
            out.write("}")
        }
        out.write("]}\n")
    }
}

/// `why`: one line per event of the chain, in time order, each with the
/// edges that make it a cause of what follows.
struct CausalChainTextFormatter: OutputFormatter {
    func write(_ report: CausalChainReport, to out: OutputStream) {
        let chain = report.chain
        let target = report.node(chain.target)
        out.write("causal chain of event \(chain.target) (\(target.name) at \(Timestamp.seconds(target.timestamp)) s, \(target.comm)-\(target.pid) cpu \(target.cpu)):\n")
        if chain.truncated { out.write("  … earlier causes omitted (raise --limit)\n") }
        for step in chain.steps {
            let n = report.node(step.node)
            let marker = step.node == chain.target ? "=>" : "  "
            var line = "\(marker) #\(n.index) \(Timestamp.seconds(n.timestamp)) [\(n.cpu)] \(n.comm)-\(n.pid) \(n.name)"
            if let inode = n.inode { line += " inode \(inode)" }
            out.write(line + "\n")
            for cause in step.causes {
                var because = "      ← #\(cause.from) \(cause.kind.name)"
                if cause.kind == .programOrder, step.skippedEvents > 0 {
                    because += " (\(step.skippedEvents) events of the task between)"
                }
                out.write(because + "\n")
            }
            if step.omittedCauses > 0 {
                out.write("      (+\(step.omittedCauses) earlier causes of the same kinds)\n")
            }
        }
    }
}

/// Seconds.nanoseconds, the way trace-cmd prints timestamps.
enum Timestamp {
    static func seconds(_ ns: UInt64) -> String {
        let frac = String(ns % 1_000_000_000)
        return "\(ns / 1_000_000_000).\(String(repeating: "0", count: 9 - frac.count))\(frac)"
    }
}
