import Foundation
import Testing
@testable import TraceIO

/// Records from the live kernel with the built binary. They need root, tracefs
/// and the loop/ext4 tools; elsewhere they are reported as skipped with the reason.
@Suite(.serialized, .enabled(if: Live.canRecord, Comment(rawValue: Live.unavailable ?? "")))
struct LiveRecordTests {
    @Test func recordsAWorkloadOnALoopExt4() throws {
        let before = Live.topLevelState()
        let fs = try LoopExt4()
        defer { fs.tearDown() }
        let out = fs.dir.appendingPathComponent("t.dat").path
        let workload = Live.workloads.appendingPathComponent("fsync_unwritten.py").path
        let rec = try Live.run([Live.binary, "record", "--mount", fs.mountPoint, "-o", out, "--", "python3", workload],
                               cwd: fs.mountPoint)
        #expect(rec.status == 0, "record failed: \(rec.stderr)")
        #expect(!Live.instanceExists(forRecorderPid: rec.pid))
        #expect(Live.topLevelState() == before)

        let dev = try fs.device
        let comma = dev.replacingOccurrences(of: ":", with: ",")
        let ino = try Live.run(["stat", "-c", "%i", fs.mountPoint + "/f"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let report = try Live.run(["trace-cmd", "report", out])
        #expect(report.status == 0, "trace-cmd report: \(report.stderr)")
        let lines = report.stdout.split(separator: "\n")

        // The marker is the first event and describes the recording.
        let first = lines.first { $0.contains(": print:") || $0.contains("tracing_mark_write") }
        let marker = RecordingMarker.parse(String(first ?? ""))
        #expect(marker?["dev"] == dev)
        #expect(marker?["preset"] == "writeback")
        #expect(marker?["clock"] == RecordingPlan.defaultClock)
        #expect(marker?["block_size"] == "4096")
        #expect(marker?["stable_writes"] == "0" || marker?["stable_writes"] == "1")
        let firstEvent = lines.first { $0.contains(": ") && $0.contains("[0") }
        #expect(firstEvent?.contains("wbreplay-recording:") == true)

        let ofInode = lines.filter { $0.contains("dev \(comma) ino \(ino) ") }
        #expect(ofInode.contains { $0.contains("ext4_sync_file_enter:") })
        #expect(ofInode.contains { $0.contains("ext4_sync_file_exit:") })
        let conversions = ofInode.filter {
            ($0.contains("ext4_ext_handle_unwritten_extents:") && $0.contains("CONVERT"))
        } + lines.filter { $0.contains("caller ext4_convert_unwritten_io_end_vec") }
        #expect(!conversions.isEmpty)

        // The device filter: every event that names a device names this one.
        let ext4 = lines.filter { $0.contains(" ext4_") && $0.contains(" dev ") }
        #expect(!ext4.isEmpty)
        #expect(ext4.allSatisfy { $0.contains("dev \(comma) ") })
        // The recorder's own threads are not traced.
        #expect(!lines.contains { $0.contains("wbreplay-\(rec.pid) ") && $0.contains("sys_enter") })
        // The file records kernel, clock and per-CPU stats.
        let stat = try Live.run(["trace-cmd", "report", "--stat", out])
        #expect(stat.stdout.contains("Buffer: wbreplay"))
        #expect(stat.stdout.contains("overrun:"))
        let summary = try Live.run(["trace-cmd", "dump", "--summary", out]).stdout
        #expect(summary.contains("\"mono\" clock"))
        let uname = try Live.run(["uname", "-r"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let options = try Live.run(["trace-cmd", "dump", "--options", out]).stdout
        #expect(options.contains(uname))
    }

    @Test func sigintStopsCleanlyAndLeavesAValidFile() throws {
        let before = Live.topLevelState()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wbr-sigint-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("s.dat").path
        var stoppedAt = Date.distantFuture
        let rec = try Live.run([Live.binary, "record", "-o", out, "--", "sleep", "30"], limit: 20) { p in
            sleep(2)
            stoppedAt = Date()
            kill(p.processIdentifier, SIGINT)
        }
        // Prompt: far sooner than the 30 s the command would have run.
        #expect(Date().timeIntervalSince(stoppedAt) < 10)
        #expect(rec.status == 130, "exit status passes on the interrupted command's: \(rec.stderr)")
        #expect(!Live.instanceExists(forRecorderPid: rec.pid))
        #expect(Live.topLevelState() == before)
        let report = try Live.run(["trace-cmd", "report", out])
        #expect(report.status == 0, "trace-cmd report: \(report.stderr)")
        #expect(report.stdout.contains("wbreplay-recording: preset=writeback"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != "s.dat" }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test func durationStopsARecordingWithoutACommand() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wbr-dur-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("d.dat").path
        let rec = try Live.run([Live.binary, "record", "--preset", "minimal", "--duration", "1", "-o", out], limit: 30)
        #expect(rec.status == 0, "\(rec.stderr)")
        #expect(!Live.instanceExists(forRecorderPid: rec.pid))
        #expect(try Live.run(["trace-cmd", "report", out]).stdout.contains("preset=minimal"))
    }

    @Test(arguments: [
        (["--mount", "/nonexistent/wbr"], "/nonexistent/wbr: no such directory"),
        (["--mount", "/proc/self"], "/proc/self: not a mount point"),
        (["-e", "ext4:no_such_event"], "unknown event on this kernel: ext4:no_such_event"),
        (["--clock", "sundial"], "unknown trace clock 'sundial'"),
        (["--dev", "seven"], "--dev seven: not a MAJ:MIN device number"),
        (["--dev", "4000:77"], "no block device 4000:77"),
        (["--buffer-kb", "0"], "bad buffer size 0 KB per CPU"),
        (["--preset", "huge"], "unknown preset 'huge'"),
        (["-e", "../../etc"], "-e ../../etc: expected SYSTEM or SYSTEM:EVENT"),
    ])
    func badInputExitsTwo(args: [String], message: String) throws {
        let rec = try Live.run([Live.binary, "record", "-o", "/tmp/wbr-never-\(getpid()).dat"] + args + ["--", "true"])
        #expect(rec.status == 2)
        #expect(rec.stderr.hasPrefix("wbreplay: error: " + message), "stderr: \(rec.stderr)")
        #expect(rec.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/wbr-never-\(getpid()).dat"))
        #expect(!Live.instanceExists(forRecorderPid: rec.pid))
    }
}

/// Needs root to become another user; skipped elsewhere.
@Suite(.enabled(if: Live.rootAvailable, "switching to user nobody needs root and setpriv"))
struct NonRootRecordTests {
    @Test func refusesWithoutRoot() throws {
        let rec = try Live.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
                                Live.binary, "record", "-o", "/tmp/wbr-nobody.dat", "--", "true"])
        #expect(rec.status == 2)
        #expect(rec.stderr == "wbreplay: error: record needs root (CAP_SYS_ADMIN) for tracefs\n")
    }
}

/// `wbreplay events` (the trace.dat reader) reads what `wbreplay record`
/// wrote. Runs once the binary has an `events` command; skipped before.
@Suite(.serialized, .enabled(if: Live.canRecord, Comment(rawValue: Live.unavailable ?? "")))
struct RecordedFileReadBackTests {
    /// The README's first-hour mistake: the workload ran in another
    /// directory, so the trace holds nothing of the file system. `record`
    /// says so; a workload run inside the mount gets no such warning.
    @Test func warnsWhenTheWorkloadRanOutsideTheMount() throws {
        let fs = try LoopExt4()
        defer { fs.tearDown() }
        let elsewhere = fs.dir.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let out = fs.dir.appendingPathComponent("t.dat").path
        let workload = Live.workloads.appendingPathComponent("fsync_unwritten.py").path
        let outside = try Live.run([Live.binary, "record", "--mount", fs.mountPoint, "-o", out, "--", "python3", workload],
                                   cwd: elsewhere.path)
        #expect(outside.status == 0, "record failed: \(outside.stderr)")
        #expect(outside.stderr.contains("wbreplay: warning:") && outside.stderr.contains("cd into \(fs.mountPoint)"),
                "\(outside.stderr)")
        let check = try Live.run([Live.binary, "check", out])
        #expect(check.stderr.contains("no ext4 events"), "\(check.stderr)")
        let inside = try Live.run([Live.binary, "record", "--mount", fs.mountPoint, "-o", out, "--", "python3", workload],
                                  cwd: fs.mountPoint)
        #expect(inside.status == 0, "record failed: \(inside.stderr)")
        #expect(!inside.stderr.contains("warning"), "\(inside.stderr)")
    }

    @Test func eventsCommandReadsTheRecording() throws {
        let fs = try LoopExt4()
        defer { fs.tearDown() }
        let out = fs.dir.appendingPathComponent("t.dat").path
        let workload = Live.workloads.appendingPathComponent("fsync_unwritten.py").path
        let rec = try Live.run([Live.binary, "record", "--mount", fs.mountPoint, "-o", out, "--", "python3", workload],
                               cwd: fs.mountPoint)
        #expect(rec.status == 0, "record failed: \(rec.stderr)")
        let dev = try fs.device
        let ino = try Live.run(["stat", "-c", "%i", fs.mountPoint + "/f"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let events = try Live.run([Live.binary, "events", out, "--format", "jsonl", "--event", "ext4_sync_file_enter"])
        #expect(events.status == 0, "wbreplay events: \(events.stderr)")
        let lines = events.stdout.split(separator: "\n").filter { $0.contains("\"event\":") }
        #expect(!lines.isEmpty)
        #expect(lines.contains { $0.contains("\"ino\":\(ino)") && $0.contains("\"dev\":\"\(dev)\"") })
        // Same number of sync entries as trace-cmd sees.
        let report = try Live.run(["trace-cmd", "report", out]).stdout
        let expected = report.split(separator: "\n").filter { $0.contains(" ext4_sync_file_enter:") }.count
        #expect(lines.count == expected)
    }
}
