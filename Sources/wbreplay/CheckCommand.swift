import ArgumentParser
import Replay
import TraceIO
import WritebackModel

extension KernelProfile: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Replay a trace against the ext4 writeback model and report ordering bugs.",
        discussion: """
        Exit status: 0 no violation, 1 violations, 2 error. Findings are `violated` when the trace \
        proves the ordering, `inconclusive` when events were lost in the window the verdict depends \
        on or a per-CPU clock cannot order the deciding events. \
        --format html writes one self-contained page (witness timelines, state histories); \
        --format sarif writes SARIF 2.1.0 for code-scanning tools.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, html, sarif }

    @OptionGroup var trace: TraceFileOptions

    @Option(help: "Output format: text, json, html or sarif.")
    var format: Format = .text

    @Option(help: "Kernel profile (\(KernelProfile.allCases.map(\.rawValue).joined(separator: ", "))); default: from the recorded kernel release, else best fit.")
    var profile: KernelProfile?

    @Option(help: "Only these rules, comma-separated (\(RuleID.allCases.map(\.rawValue).joined(separator: ", "))).")
    var rules: String?

    @Flag(help: "The device requires stable pages (enables unstable-page-write).")
    var stableWrites = false

    func parsedRules() throws -> Set<RuleID> {
        guard let rules else { return [] }
        var out: Set<RuleID> = []
        for name in rules.split(separator: ",") {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let id = RuleID(rawValue: trimmed) else {
                throw ValidationError("unknown rule '\(trimmed)'; rules: \(RuleID.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            out.insert(id)
        }
        return out
    }

    func run() throws {
        let options = ReplayOptions(profile: profile, rules: try parsedRules(), stableWrites: stableWrites)
        let reader = try trace.open(label: "check")
        let report = try Replay.check(reader, options: options)
        if !reader.sawExt4Events { Diagnostics.noExt4Events(trace.file) }
        let out = OutputStream()
        switch format {
        case .text: TextCheckFormatter(palette: Palette(enabled: Terminal.colour(for: 1))).write(report, to: out)
        case .json: JSONCheckFormatter().write(report, to: out)
        case .sarif: SARIFCheckFormatter(tool: WBReplay.configuration.version).write(report, to: out)
        case .html:
            let histories = try FindingHistories.replay(reader, report: report, options: options)
            HTMLCheckFormatter().write(HTMLCheckReport(check: report, histories: histories,
                                                       metadata: reader.metadata), to: out)
        }
        out.flush()
        if report.violated > 0 { throw ExitCode(1) }
    }
}
