import ArgumentParser
import Replay
import TraceIO
import WritebackModel

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Print the state history of one inode's objects (io_ends, folios, block ranges) as the model replayed them."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @OptionGroup var trace: TraceFileOptions

    @Option(help: "The inode number (every generation of it).")
    var ino: UInt64

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @Option(help: "Kernel profile; default: from the recorded kernel release, else best fit.")
    var profile: KernelProfile?

    @Flag(help: "The device requires stable pages.")
    var stableWrites = false

    func run() throws {
        let reader = try trace.open(label: "replay")
        let report = try Replay.check(reader, options: ReplayOptions(profile: profile, stableWrites: stableWrites, historyIno: ino))
        let out = OutputStream()
        switch format {
        case .text: TextHistoryFormatter(ino: ino).write(report, to: out)
        case .json: JSONHistoryFormatter(ino: ino).write(report, to: out)
        }
        out.flush()
    }
}
