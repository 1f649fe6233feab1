import ArgumentParser
import Replay
import TraceIO
import WritebackModel

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare a trace with the model's kernel profiles, or two traces with each other.",
        discussion: """
        With one trace: replay it under each profile (or the one given) and report, per profile, \
        the share of objects (io_ends, folio writebacks, fsyncs, block changes, inodes, freezes) \
        whose observed lifecycle the profile allows, the first divergence per object kind with \
        expected vs observed steps and the object's state history, and the best-matching profile.
        With two traces of the same workload: align io_end, fsync and block-change lifecycles by \
        their canonical step sequences and report new / removed transitions, lifecycles and \
        reordered steps, with latency percentiles side by side.
        Exit status: 0 the trace conforms to the best profile / the traces behave alike, \
        1 divergences / differences, 2 error.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Argument(help: "One trace (against the profiles) or two (A then B); - reads standard input.")
    var files: [String]

    @Option(help: "Read this buffer instance of each trace.dat.")
    var instance: String?

    @Option(help: "Replay under this profile only (\(KernelProfile.allCases.map(\.rawValue).joined(separator: ", "))). With two traces: the profile both are replayed under (default: each trace's recorded kernel, else its best fit).")
    var profile: KernelProfile?

    @Flag(help: "Replay under every profile (the default with one trace and no --profile).")
    var allProfiles = false

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @Flag(help: "The device requires stable pages.")
    var stableWrites = false

    func validate() throws {
        guard (1...2).contains(files.count) else { throw ValidationError("diff takes one trace or two (A B), not \(files.count)") }
        if files.filter({ $0 == StandardInput.name }).count > 1 { throw ValidationError("only one of the traces can be - (standard input)") }
        if profile != nil && allProfiles { throw ValidationError("--profile and --all-profiles exclude each other") }
        if files.count == 2 && allProfiles { throw ValidationError("--all-profiles applies to one trace") }
    }

    func run() throws {
        let out = OutputStream()
        if files.count == 1 {
            let reader = try TraceInput.open(files[0], instance: instance, label: "diff")
            let report = try ProfileDiff.run(reader, profiles: profile.map { [$0] } ?? [], stableWrites: stableWrites)
            if !reader.sawExt4Events { Diagnostics.noExt4Events(files[0]) }
            switch format {
            case .text: TextProfileDiffFormatter().write(report, to: out)
            case .json: JSONProfileDiffFormatter().write(report, to: out)
            }
            out.flush()
            if report.best.divergenceCount > 0 { throw ExitCode(1) }
        } else {
            let a = try TraceDiff.lifecycles(TraceInput.open(files[0], instance: instance, label: "diff A"), profile: profile)
            let b = try TraceDiff.lifecycles(TraceInput.open(files[1], instance: instance, label: "diff B"), profile: profile)
            let report = TraceDiff.compare(a, b)
            switch format {
            case .text: TextTraceDiffFormatter().write(report, to: out)
            case .json: JSONTraceDiffFormatter().write(report, to: out)
            }
            out.flush()
            if report.differenceCount > 0 { throw ExitCode(1) }
        }
    }
}
