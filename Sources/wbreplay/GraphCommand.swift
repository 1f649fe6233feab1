import ArgumentParser
import EventGraph
import TraceIO

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "The happens-before graph of a trace, of one inode's events, or around one event, as Graphviz DOT or JSON.",
        discussion: """
        DOT draws one column per task with time going down (render with `dot -Tsvg`). A whole \
        trace is far too big to draw: pick --around INDEX (the events within --depth hops of one \
        event) or --ino N.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case dot, json }

    /// Above this many events `dot` takes minutes and gigabytes: warn.
    static let drawableEvents = 1_500

    @OptionGroup var trace: TraceFileOptions

    @Option(help: "Only the events of this inode number (all its generations), and the edges between them.")
    var ino: UInt64?

    @Option(help: "With --ino: only this device (MAJ:MIN).")
    var dev: DeviceNumber?

    @Option(help: ArgumentHelp("Only the events within --depth hops of the event at INDEX (as `events` numbers them).", valueName: "INDEX"))
    var around: Int?

    @Option(help: "With --around: how many hops (causal edges either way, or the task's previous / next event).")
    var depth: Int = 3

    @Option(help: "With --around: at most this many events, the nearest first.")
    var maxEvents: Int = 120

    @Option(help: "Output format: dot (render with `dot -Tsvg`) or json.")
    var format: Format = .dot

    func validate() throws {
        if around != nil && ino != nil { throw ValidationError("--around and --ino exclude each other") }
        if let around, around < 0 { throw ValidationError("--around must be 0 or more") }
        guard depth >= 0 else { throw ValidationError("--depth must be 0 or more") }
        guard maxEvents > 0 else { throw ValidationError("--max-events must be positive") }
    }

    /// With --around: the events kept either side of the centre. The graph
    /// of the whole trace is built only when the neighbourhood reaches
    /// beyond them.
    static let excerptRadius = 1 << 18

    func run() throws {
        let subgraph: Subgraph
        var title = trace.file
        var highlighted: Set<Int> = []
        if let around {
            let range = max(0, around - Self.excerptRadius)..<(around + min(Self.excerptRadius + 1, Int.max - around))
            var graph = try EventGraph.build(from: trace.open(label: "graph"), range: range)
            guard graph.contains(event: around) else { throw CommandError(WhyCommand.outOfRange("--around", around, events: graph.eventCount)) }
            var events = graph.neighbourhood(of: around, depth: depth, limit: maxEvents)
            if events == nil {
                graph = try EventGraph.build(from: trace.open(label: "graph (whole)"))
                events = graph.neighbourhood(of: around, depth: depth, limit: maxEvents)
            }
            subgraph = graph.subgraph(.events(events ?? [around]))
            title += ": around event \(around), depth \(depth)"
            highlighted = [around]
        } else if let ino {
            let graph = try EventGraph.build(from: trace.open(label: "graph"))
            subgraph = graph.subgraph(.inode(ino, dev: dev))
            title += ": inode \(ino)"
        } else {
            let graph = try EventGraph.build(from: trace.open(label: "graph"))
            subgraph = graph.subgraph(.all)
        }
        if format == .dot, subgraph.nodes.count > Self.drawableEvents {
            Diagnostics.warning("\(subgraph.nodes.count) events are too many for dot to lay out; pick some with --around INDEX --depth N")
        }
        let out = OutputStream()
        switch format {
        case .dot: SubgraphOutput(renderer: LaneDOTFormatter(title: title, highlighted: highlighted)).write(subgraph, to: out)
        case .json: SubgraphOutput(renderer: JSONGraphFormatter()).write(subgraph, to: out)
        }
        out.flush()
    }
}

/// The graph renderings (pure Subgraph → String) as output formats of the CLI.
struct SubgraphOutput<Renderer: GraphFormatter>: OutputFormatter {
    var renderer: Renderer

    func write(_ subgraph: Subgraph, to out: OutputStream) {
        var text = renderer.format(subgraph)
        // JSON documents carry the schema version (the library's JSON starts with `{"nodes"`).
        if text.hasPrefix("{") { text = "{\"schema_version\":\(Schema.version)," + text.dropFirst() }
        out.write(text)
        if !text.hasSuffix("\n") { out.write(byte: 0x0A) }
    }
}
