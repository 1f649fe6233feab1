import ArgumentParser
import EventGraph
import TraceIO

struct WhyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "why",
        abstract: "The causal chain that leads to one event: what had to happen before it, and why.",
        discussion: "INDEX is the event's 0-based position in the trace, as `wbreplay events` lists them and `check` cites them in witnesses."
    )

    @OptionGroup var trace: TraceFileOptions

    @Option(help: "The event's index (0-based, in timestamp order).")
    var event: Int

    @Option(help: "At most this many events in the chain.")
    var limit: Int = 40

    func validate() throws {
        guard event >= 0 else { throw ValidationError("--event must be 0 or more") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() throws {
        let graph = try EventGraph.build(from: trace.open())
        guard graph.contains(event: event) else {
            throw CommandError("--event \(event): the trace has \(graph.eventCount) events (0…\(max(0, graph.eventCount - 1)))")
        }
        let chain = graph.causalChain(to: event, limit: limit)
        let out = OutputStream()
        CausalChainTextFormatter(graph: graph).write(chain, to: out)
        out.flush()
    }
}

/// `why`: one line per event of the chain, in time order, each with the
/// edges that make it a cause of what follows.
struct CausalChainTextFormatter: OutputFormatter {
    let graph: EventGraph

    func write(_ chain: CausalChain, to out: OutputStream) {
        let target = graph.node(chain.target)
        out.write("causal chain of event \(chain.target) (\(target.name) at \(Timestamp.seconds(target.timestamp)) s, \(target.comm)-\(target.pid) cpu \(target.cpu)):\n")
        if chain.truncated { out.write("  … earlier causes omitted (raise --limit)\n") }
        for step in chain.steps {
            let n = graph.node(step.node)
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
