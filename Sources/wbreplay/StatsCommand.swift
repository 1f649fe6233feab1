import ArgumentParser
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

    func run() throws {
        let reader = try trace.open()
        var stats = try TraceStatistics.collect(from: reader)
        stats.include(reader.metadata)
        let report = StatsReport(path: trace.file, metadata: reader.metadata, stats: stats)
        let out = OutputStream()
        switch format {
        case .text: TextStatsFormatter().write(report, to: out)
        case .json: JSONStatsFormatter().write(report, to: out)
        }
        out.flush()
    }
}
