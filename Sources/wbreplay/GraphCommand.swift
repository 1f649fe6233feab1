import ArgumentParser
import EventGraph
import TraceIO

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "The happens-before graph of a trace (or of one inode's events) as Graphviz DOT or JSON."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case dot, json }

    @OptionGroup var trace: TraceFileOptions

    @Option(help: "Only the events of this inode number (all its generations), and the edges between them.")
    var ino: UInt64?

    @Option(help: "With --ino: only this device (MAJ:MIN).")
    var dev: DeviceNumber?

    @Option(help: "Output format: dot (render with `dot -Tsvg`) or json.")
    var format: Format = .dot

    func run() throws {
        let graph = try EventGraph.build(from: trace.open())
        let selection: GraphSelection = ino.map { .inode($0, dev: dev) } ?? .all
        let subgraph = graph.subgraph(selection)
        let out = OutputStream()
        switch format {
        case .dot: SubgraphOutput(renderer: DOTGraphFormatter()).write(subgraph, to: out)
        case .json: SubgraphOutput(renderer: JSONGraphFormatter()).write(subgraph, to: out)
        }
        out.flush()
    }
}

/// The graph renderings EventGraph provides (pure Subgraph → String), as
/// output formats of the CLI.
struct SubgraphOutput<Renderer: GraphFormatter>: OutputFormatter {
    var renderer: Renderer

    func write(_ subgraph: Subgraph, to out: OutputStream) {
        out.write(renderer.format(subgraph))
        out.write(byte: 0x0A)
    }
}
