import ArgumentParser
import EventGraph
import KernelEvents
import TraceIO

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count a trace's events per name and CPU; lost events, time span, devices, inodes, clock."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @OptionGroup var trace: TraceFileOptions

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @Flag(inversion: .prefixedNo, help: "Also build the event graph and report objects, edges per kind and unlinked events (--no-graph: counts only, one thread per CPU).")
    var graph = true

    func run() throws {
        let reader = try trace.open(label: "stats")
        var stats: TraceStatistics
        var summary: GraphSummary?
        if graph {
            // One ordered pass feeds both, on two threads: the graph needs
            // timestamp order, counting does not mind it. The graph is
            // counted as it streams, not kept, so memory does not grow with
            // the trace.
            let (counted, counter) = try GraphSummaryCounter.collect(from: reader)
            stats = counted
            stats.damagedEvents = UInt64(reader.damagedEvents)
            summary = counter
        } else {
            // The reader itself: a trace.dat is counted in parallel parts
            // (fast enough to need no progress line).
            stats = try TraceStatistics.collect(from: reader.inner)
        }
        stats.include(reader.metadata)
        // Inodes come from ext4 and filemap events; without ext4 ones, or
        // without any file, the trace shows no file's life on ext4.
        if stats.inodes.isEmpty || !stats.byEvent.keys.contains(where: { $0.hasPrefix("ext4_") }) {
            Diagnostics.noExt4Events(trace.file)
        }
        let report = StatsReport(path: trace.file, metadata: reader.metadata, stats: stats, graph: summary)
        let out = OutputStream()
        switch format {
        case .text: TextStatsFormatter().write(report, to: out)
        case .json: JSONStatsFormatter().write(report, to: out)
        }
        out.flush()
    }
}
