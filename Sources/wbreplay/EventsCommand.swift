import ArgumentParser
import TraceIO

struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print the events of a trace, in timestamp order, as text or JSON Lines.",
        discussion: """
        Each event carries its index (#N in text, "index" in JSON Lines): its 0-based position \
        among the trace's events, the INDEX that `why --event` and `graph --around` take and that \
        `check` cites in witnesses. JSON Lines begin with one header line holding schema_version.
        """
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
        // Progress would mix with the events on a terminal: only when they go elsewhere.
        let reader = try trace.open(label: "events", progress: !Terminal.isTTY(1))
        let wanted = Set(events)
        if let known = reader.eventNames {
            let unknown = wanted.subtracting(known).sorted()
            if !unknown.isEmpty { throw CommandError(Self.unknownMessage(unknown, known: known)) }
        }
        let filter = EventFilter(names: wanted, device: dev, ino: ino)
        let out = OutputStream()
        var seen: Set<String> = []
        do {
            switch format {
            case .text: seen = try stream(reader, filter, TextEventFormatter(), out)
            case .jsonl: seen = try stream(reader, filter, JSONLinesEventFormatter(trace: trace.file, metadata: reader.metadata), out)
            }
        } catch is StopReading {
            // Whoever read our output closed the pipe: nothing more to say.
            out.flush()
            return
        }
        out.flush()
        // A text trace has no formats: a name is valid when the trace has such events.
        if reader.eventNames == nil {
            let unknown = wanted.subtracting(seen).sorted()
            if !unknown.isEmpty { throw CommandError(Self.unknownMessage(unknown, known: seen)) }
        }
    }

    /// One line: the names of the asked-for event's system (`ext4_` for
    /// `ext4_foo`) when the trace has some, else all of them, the first 40.
    static func unknownMessage(_ unknown: [String], known: Set<String>) -> String {
        let system = unknown.first.flatMap { $0.split(separator: "_").first.map { $0 + "_" } } ?? ""
        let related = known.filter { $0.hasPrefix(system) }.sorted()
        let list = related.isEmpty ? known.sorted() : related
        let what = related.isEmpty ? "its events" : "its \(system)* events"
        var shown = list.prefix(40).joined(separator: ", ")
        if list.count > 40 { shown += ", … (\(list.count) in all; `wbreplay stats FILE` counts the events present)" }
        return "--event \(unknown.joined(separator: ", ")): no such event in this trace; \(what): \(list.isEmpty ? "none" : shown)"
    }

    /// Streams the matching records; returns the event names the trace holds
    /// when a name filter is given (text traces validate names by it).
    private func stream<F: OutputFormatter>(
        _ reader: some TraceReader, _ filter: EventFilter, _ formatter: F, _ out: OutputStream
    ) throws -> Set<String> where F.Value == IndexedRecord {
        formatter.begin(out)
        var index = 0
        var names: Set<String> = []
        let collect = !filter.names.isEmpty && reader.eventNames == nil
        try reader.forEach(ReadOptions(fields: .all, keepRawText: true)) { record in
            guard !out.closedByReader else { throw StopReading() }
            if case .event(let event) = record {
                defer { index += 1 }
                if collect { names.insert(event.name) }
                if !filter.matches(event) { return }
                formatter.write(IndexedRecord(index: index, record: record), to: out)
            } else {
                formatter.write(IndexedRecord(index: index, record: record), to: out)
            }
        }
        formatter.end(out)
        return names
    }
}

/// A record and its index among the trace's events (for a lost-events mark:
/// the index of the event that follows it).
struct IndexedRecord {
    var index: Int
    var record: TraceRecord
}

/// Thrown from a reader callback to stop early (the reader of our output went away).
struct StopReading: Error {}
