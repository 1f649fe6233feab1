import Foundation
import Glibc

/// Runs the built `wbreplay` binary, as a user would, and captures what it says.
struct CLIResult {
    var status: Int32
    /// True when the process ended by a signal (a crash), which is never acceptable.
    var killedBySignal: Bool
    /// Killed by the time limit of `CLI.run(executable:_:timeLimit:)` (then
    /// `killedBySignal` is false: the SIGKILL was ours).
    var timedOut = false
    var stdout: Data
    var stderr: String

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

enum CLI {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary sits next to the test bundle in SwiftPM's build folder.
    static var binary: URL {
        if let override = ProcessInfo.processInfo.environment["WBREPLAY_BIN"] {
            return URL(fileURLWithPath: override)
        }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("wbreplay")
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDir), !isDir.boolValue {
                return candidate
            }
            dir = dir.deletingLastPathComponent()
        }
        return repoRoot.appendingPathComponent(".build/debug/wbreplay")
    }

    static func trace(_ name: String) -> String { repoRoot.appendingPathComponent("traces/\(name)").path }

    static func run(_ arguments: [String]) throws -> CLIResult {
        try run(executable: binary, arguments)
    }

    /// Runs `executable`; with a `timeLimit` (seconds), a watchdog kills it
    /// when it is still running then, so a hang fails a test instead of
    /// stalling the suite.
    static func run(executable: URL, _ arguments: [String], timeLimit: Double? = nil) throws -> CLIResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let finished = DispatchSemaphore(value: 0)
        let timedOut = Flag()
        if let timeLimit {
            let pid = process.processIdentifier
            DispatchQueue.global().async {
                if finished.wait(timeout: .now() + timeLimit) == .timedOut {
                    timedOut.set()
                    kill(pid, SIGKILL)
                }
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
        return CLIResult(
            status: process.terminationStatus,
            killedBySignal: process.terminationReason == .uncaughtSignal && !timedOut.isSet,
            timedOut: timedOut.isSet,
            stdout: outData,
            stderr: String(decoding: errData, as: UTF8.self)
        )
    }

    /// Set once from the watchdog, read after the process ended.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }

    /// A fresh temporary directory for one test.
    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("wbreplay-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
