import Foundation
import Testing

/// What the live tests need from the machine, and why they skip without it.
enum Live {
    static let tracing = "/sys/kernel/tracing"
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let workloads = repoRoot.appendingPathComponent("traces/workloads")

    /// The wbreplay binary SwiftPM built next to the test bundle.
    static var binary: String {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir.appendingPathComponent("wbreplay"), repoRoot.appendingPathComponent(".build/debug/wbreplay")]
        where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate.path
        }
        return repoRoot.appendingPathComponent(".build/debug/wbreplay").path
    }

    static func tool(_ name: String) -> Bool {
        ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }

    /// nil when live recording tests can run here; otherwise the reason they skip.
    static let unavailable: String? = {
        if geteuid() != 0 { return "live recording needs root (tracefs, loop devices)" }
        if !FileManager.default.fileExists(atPath: tracing + "/instances") { return "tracefs is not mounted at \(tracing)" }
        for t in ["mkfs.ext4", "losetup", "mount", "umount", "trace-cmd", "python3"] where !tool(t) {
            return "\(t) is not installed"
        }
        return nil
    }()
    static var canRecord: Bool { unavailable == nil }
    static var rootAvailable: Bool { geteuid() == 0 && tool("setpriv") }

    struct Output { var status: Int32; var stdout: String; var stderr: String; var pid: Int32 }

    /// Runs a program to completion; kills it (and records a failure) if it
    /// has not finished after `limit` seconds, so a hang fails instead of blocking CI.
    @discardableResult
    static func run(_ args: [String], cwd: String? = nil, limit: Double = 120,
                    whileRunning: ((Process) -> Void)? = nil) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0].hasPrefix("/") ? args[0] : "/usr/bin/env")
        p.arguments = args[0].hasPrefix("/") ? Array(args.dropFirst()) : args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let outData = Data.Collector(out.fileHandleForReading)
        let errData = Data.Collector(err.fileHandleForReading)
        whileRunning?(p)
        let deadline = Date().addingTimeInterval(limit)
        while p.isRunning, Date() < deadline { usleep(20_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            Issue.record("\(args.joined(separator: " ")) did not finish within \(limit) s")
        }
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: outData.text(), stderr: errData.text(), pid: p.processIdentifier)
    }

    /// The top-level tracefs files a recorder must leave as they were.
    static func topLevelState() -> [String: String] {
        var state: [String: String] = [:]
        for f in ["tracing_on", "set_event", "current_tracer", "trace_clock", "buffer_size_kb", "set_event_pid",
                  "set_event_notrace_pid", "events/enable"] {
            state[f] = (try? String(contentsOfFile: tracing + "/" + f, encoding: .utf8)) ?? "<unreadable>"
        }
        return state
    }

    static func instanceExists(forRecorderPid pid: Int32) -> Bool {
        FileManager.default.fileExists(atPath: "\(tracing)/instances/wbreplay-\(pid)")
    }
}

extension Data {
    /// Drains a pipe on a background thread so a chatty child never blocks.
    final class Collector: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)
        init(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }
        }
        func text() -> String {
            done.wait()
            return String(decoding: data, as: UTF8.self)
        }
    }
}

/// A fresh ext4 on a loop device, mounted; `tearDown()` unmounts and detaches
/// it and deletes the image, and runs from a `defer` so failures clean up too.
final class LoopExt4 {
    let dir: URL
    let image: String
    let mountPoint: String

    init(sizeMB: Int = 512) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("wbr-live-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        image = dir.appendingPathComponent("fs.img").path
        mountPoint = dir.appendingPathComponent("mnt").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try Live.run(["truncate", "-s", "\(sizeMB)M", image])
        let mkfs = try Live.run(["mkfs.ext4", "-q", "-F", image])
        guard mkfs.status == 0 else { throw SetupError(step: "mkfs.ext4", detail: mkfs.stderr) }
        let mount = try Live.run(["mount", "-o", "loop", image, mountPoint])
        guard mount.status == 0 else { throw SetupError(step: "mount", detail: mount.stderr) }
    }

    /// "MAJ:MIN" of the mounted file system.
    var device: String {
        get throws {
            let out = try Live.run(["stat", "-c", "%Hd:%Ld", mountPoint]).stdout
            return out.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    func tearDown() {
        _ = try? Live.run(["umount", mountPoint])
        // `mount -o loop` sets autoclear; detach explicitly if it is still attached.
        if let attached = try? Live.run(["losetup", "-j", image]).stdout {
            for line in attached.split(separator: "\n") {
                if let dev = line.split(separator: ":").first { _ = try? Live.run(["losetup", "-d", String(dev)]) }
            }
        }
        try? FileManager.default.removeItem(at: dir)
    }

    struct SetupError: Error, CustomStringConvertible {
        var step: String
        var detail: String
        var description: String { "\(step) failed: \(detail)" }
    }
}
