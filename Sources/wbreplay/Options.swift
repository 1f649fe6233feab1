import ArgumentParser
import TraceIO

/// The trace file argument every reading command takes.
struct TraceFileOptions: ParsableArguments {
    @Argument(help: "A trace: trace.dat (v6/v7), the tracefs trace file, or trace-cmd report output. The format is detected from the content.")
    var file: String

    @Option(help: "Read this buffer instance of a trace.dat (default: the top level, or the one instance that has events).")
    var instance: String?

    func open() throws -> any TraceReader {
        try TraceFile.open(path: file, instance: instance)
    }
}

extension DeviceNumber: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
