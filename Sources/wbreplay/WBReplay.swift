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
        subcommands: [RecordCommand.self, EventsCommand.self, StatsCommand.self, GraphCommand.self, WhyCommand.self, CheckCommand.self, ReplayCommand.self, DiffCommand.self, ExploreCommand.self]
    )

    /// Like a linter: usage errors and unreadable input exit 2 with one line
    /// on stderr (ArgumentParser's default for usage errors is 64).
    static func main() {
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
            // usage errors come through its message, without its "Error: " prefix.
            var message = error is TraceError || error is CommandError
                ? String(describing: error) : fullMessage(for: error)
            if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
            Diagnostics.error(message.isEmpty ? String(describing: error) : message)
            Foundation.exit(2)
        }
    }
}

/// The CLI's one channel to the person at the terminal for problems.
enum Diagnostics {
    static func error(_ message: String) {
        let line = message.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? message
        FileHandle.standardError.write(Data("wbreplay: error: \(line)\n".utf8))
    }

    static func warning(_ message: String) {
        FileHandle.standardError.write(Data("wbreplay: warning: \(message)\n".utf8))
    }
}

/// A command's refusal of what it was asked, in one line (exit 2).
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
