import ArgumentParser
import TraceIO

/// The trace file argument every reading command takes.
struct TraceFileOptions: ParsableArguments {
    @Argument(help: "A trace: trace.dat (v6/v7), the tracefs trace file, or trace-cmd report output; - reads standard input. The format is detected from the content.")
    var file: String

    @Option(help: "Read this buffer instance of a trace.dat (default: the top level, or the one instance that has events).")
    var instance: String?

    /// Opens the trace; `label` names the pass on the progress line, which is
    /// drawn only when standard error is a terminal (`progress: false`: never).
    func open(label: String = "reading", progress: Bool = true) throws -> ProgressReader {
        try TraceInput.open(file, instance: instance, label: label, progress: progress)
    }
}

enum TraceInput {
    /// Opens `file` (`-`: standard input) for a command.
    static func open(_ file: String, instance: String?, label: String, progress: Bool = true) throws -> ProgressReader {
        let actual = file == StandardInput.name ? try StandardInput.path() : file
        do {
            let reader = try TraceFile.open(path: actual, instance: instance)
            return ProgressReader(inner: reader, shownPath: file, label: label,
                                  status: progress ? StatusLine.onTerminal() : nil)
        } catch let error as TraceError {
            throw error.naming(file, for: actual)
        }
    }
}

extension DeviceNumber: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

/// The version of every JSON document wbreplay writes (`schema_version`):
/// raised when a key changes meaning or disappears, not when one is added.
enum Schema {
    static let version = 1
}
