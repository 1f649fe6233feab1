import ArgumentParser
import EventGraph
import Foundation
import Replay
import TraceIO
import WritebackModel

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a trace and its findings for a trace viewer (Perfetto UI, chrome://tracing).",
        discussion: """
        --format perfetto writes the Chrome JSON trace format, which ui.perfetto.dev and \
        chrome://tracing open: every event as a slice on its task's track and on its CPU's \
        track (syscalls, kernel function spans and work executions with their durations), \
        work items and block I/O as async slices, and each finding as an instant event with \
        flow arrows along its witness. KernelShark opens the trace.dat itself; its session \
        files cannot carry findings (docs/cli.md).
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case perfetto }

    @OptionGroup var trace: TraceFileOptions

    @Option(help: "Export format: perfetto (Chrome JSON trace format).")
    var format: Format = .perfetto

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    @Option(help: "Kernel profile for the findings; default: as `check` chooses.")
    var profile: KernelProfile?

    @Flag(help: "The device requires stable pages.")
    var stableWrites = false

    func run() throws {
        let reader = try trace.open(label: "export")
        let graph = try EventGraph.build(from: reader)
        let report = try Replay.check(reader, options: ReplayOptions(profile: profile, stableWrites: stableWrites))
        if !reader.sawExt4Events { Diagnostics.noExt4Events(trace.file) }
        let out: OutputStream
        if let output {
            let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw CommandError("cannot write \(output): \(String(cString: strerror(errno)))") }
            out = OutputStream(fd: fd)
            defer { out.flush(); close(fd) }
            PerfettoFormatter().write(PerfettoExport(trace: trace.file, graph: graph, check: report), to: out)
        } else {
            out = OutputStream()
            PerfettoFormatter().write(PerfettoExport(trace: trace.file, graph: graph, check: report), to: out)
            out.flush()
        }
    }
}
