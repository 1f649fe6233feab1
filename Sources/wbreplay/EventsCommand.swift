import ArgumentParser
import TraceIO

struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print the events of a trace, in timestamp order, as text or JSON Lines."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, jsonl }

    @OptionGroup var trace: TraceFileOptions

    @Option(help: "Output format: text or jsonl.")
    var format: Format = .text

    @Option(name: .customLong("event"), help: "Only events of this name (repeatable), e.g. ext4_sync_file_enter.")
    var events: [String] = []

    @Option(help: "Only events about this device, as MAJ:MIN (e.g. 7:0).")
    var dev: DeviceNumber?

    @Option(help: "Only events about this inode number (decimal).")
    var ino: UInt64?

    func run() throws {
        let reader = try trace.open()
        let filter = EventFilter(names: Set(events), device: dev, ino: ino)
        let out = OutputStream()
        do {
            switch format {
            case .text: try stream(reader, filter, TextEventFormatter(), out)
            case .jsonl: try stream(reader, filter, JSONLinesEventFormatter(), out)
            }
        } catch is StopReading {
            // Whoever read our output closed the pipe: nothing more to say.
        }
        out.flush()
    }

    private func stream<F: OutputFormatter>(
        _ reader: any TraceReader, _ filter: EventFilter, _ formatter: F, _ out: OutputStream
    ) throws where F.Value == TraceRecord {
        formatter.begin(out)
        try reader.forEach(ReadOptions(fields: .all, keepRawText: true)) { record in
            guard !out.closedByReader else { throw StopReading() }
            if case .event(let event) = record, !filter.matches(event) { return }
            formatter.write(record, to: out)
        }
        formatter.end(out)
    }
}

/// Thrown from a reader callback to stop early (the reader of our output went away).
struct StopReading: Error {}
