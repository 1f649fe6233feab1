import ArgumentParser
import Foundation
import TraceIO

@main
struct WBReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wbreplay",
        abstract: "Record, read and replay ext4 writeback traces; flag ordering bugs.",
        discussion: "Exit status: 0 clean, 1 findings, 2 error (bad input, bad usage).",
        version: "0.1.0",
        subcommands: [RecordCommand.self, EventsCommand.self, StatsCommand.self, CheckCommand.self, WhyCommand.self, GraphCommand.self, ReplayCommand.self, DiffCommand.self, ExportCommand.self, ExploreCommand.self]
    )

    /// Like a linter: usage errors and unreadable input exit 2 with one line
    /// on stderr (ArgumentParser's default for usage errors is 64).
    static func main() {
        // A crash inside libtracecmd's open of a damaged file ends the
        // command with its one error line, as any refusal (see DatOpenGuard).
        DatOpenGuard.install { Diagnostics.errorLine(String(describing: $0)) }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help, --version
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            // A command's own verdict (1: findings) passes through unchanged.
            if let verdict = error as? ExitCode { Foundation.exit(verdict.rawValue) }
            // Our own errors describe themselves in one line; ArgumentParser's
            // usage errors come through its message, folded into one line
            // (its list of valid values included), without its "Error: " prefix.
            var message = error is TraceError || error is CommandError
                ? String(describing: error) : Diagnostics.oneLine(message(for: error))
            if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
            Diagnostics.error(message.isEmpty ? String(describing: error) : message)
            Foundation.exit(2)
        }
    }
}

/// The CLI's one channel to the person at the terminal for problems.
enum Diagnostics {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data(errorLine(message).utf8))
    }

    /// The line `error` writes: the message's first line, newline included.
    static func errorLine(_ message: String) -> String {
        let line = message.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? message
        return "wbreplay: error: \(line)\n"
    }

    static func warning(_ message: String) {
        FileHandle.standardError.write(Data("wbreplay: warning: \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("wbreplay: note: \(message)\n".utf8))
    }

    /// A trace in which no ext4 event names a file: whatever the verdict
    /// says, it is about nothing.
    static func noExt4Events(_ file: String) {
        note("\(file) has no ext4 events about a file on any device: nothing here for the model to check (was the workload run outside the traced file system?)")
    }

    /// A multi-line message as one line: ArgumentParser lists valid values
    /// one per line ("- ext4-3.6"), which become a comma-separated list.
    static func oneLine(_ message: String) -> String {
        var out = ""
        var listing = false
        for raw in message.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            if line.hasPrefix("- ") {
                out += (listing ? ", " : " ") + line.dropFirst(2)
                listing = true
            } else {
                if !out.isEmpty { out += listing ? ". " : " " }
                out += line
                listing = false
            }
        }
        return out
    }
}

/// A command's refusal of what it was asked, in one line (exit 2).
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
