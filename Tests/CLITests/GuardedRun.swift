import Foundation

/// Runs a process with a time limit (killed after `limitSeconds`: a reader
/// that hangs fails its test instead of stalling the suite) and, separately,
/// measures a run's peak memory with /usr/bin/time.
enum GuardedRun {
    static let limitSeconds = 60.0

    /// Runs `arguments` (the executable first) under the time limit.
    static func run(_ arguments: [String]) throws -> CLIResult {
        try CLI.run(executable: URL(fileURLWithPath: arguments[0]), Array(arguments.dropFirst()), timeLimit: limitSeconds)
    }

    /// The peak resident set of one run, in KiB (GNU time's %M), written to a
    /// file so that the program's own stderr does not mix with it.
    static func maxRSSKiB(_ arguments: [String]) throws -> Int {
        let report = FileManager.default.temporaryDirectory
            .appendingPathComponent("wbreplay-rss-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: report) }
        let r = try run(["/usr/bin/time", "-f", "%M", "-o", report] + arguments)
        guard !r.timedOut else { throw MeasureError.timedOut }
        let text = try String(contentsOfFile: report, encoding: .utf8)
        guard let kib = text.split(separator: "\n").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else {
            throw MeasureError.noReport(text)
        }
        return kib
    }

    enum MeasureError: Error { case timedOut, noReport(String) }
}
