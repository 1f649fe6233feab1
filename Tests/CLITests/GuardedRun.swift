import Foundation
import Glibc

/// Runs a process with a time limit (killed after `limitSeconds`: a reader
/// that hangs fails its test instead of stalling the suite) and, separately,
/// measures a run's peak memory with /usr/bin/time.
enum GuardedRun {
    static let limitSeconds = 60.0

    struct Result {
        var status: Int32
        var killedBySignal: Bool
        var timedOut: Bool
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let finished = DispatchSemaphore(value: 0)
        let timedOut = Flag()
        DispatchQueue.global().async {
            if finished.wait(timeout: .now() + limitSeconds) == .timedOut {
                timedOut.set()
                kill(pid, SIGKILL)
            }
        }
        // Read both pipes concurrently so a large output cannot block the child.
        nonisolated(unsafe) var outData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            outData = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        finished.signal()
        return Result(
            status: process.terminationStatus,
            killedBySignal: process.terminationReason == .uncaughtSignal && !timedOut.isSet,
            timedOut: timedOut.isSet,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self)
        )
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

    /// Set once from the watchdog, read after the process ended.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }
}
