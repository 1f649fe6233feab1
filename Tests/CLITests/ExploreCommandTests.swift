import Foundation
import Testing

/// `wbreplay explore` as a user runs it: exit 1 with a counterexample trace
/// that `check` flags, exit 0 and no trace under the fixed profile, exit 2
/// on a bad request.
@Suite struct ExploreCommandTests {
    @Test func bugFoundTraceWrittenAndCheckedByCheck() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("drain.txt").path
        let r = try CLI.run(["explore", "--scenario", "flush-vs-worker-drain", "--profile", "ext4-3.7-v4", "--emit-trace", path])
        #expect(r.status == 1, "stderr: \(r.stderr)")
        #expect(r.stdoutText.contains("violation truncate-during-conversion"))
        #expect(r.stdoutText.contains("states/s"))
        #expect(r.stdoutText.contains("<-- truncate-during-conversion"))
        #expect(FileManager.default.fileExists(atPath: path))
        let check = try CLI.run(["check", "--profile", "ext4-3.7-v4", "--format", "json", path])
        #expect(check.status == 1, "stderr: \(check.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: check.stdout) as? [String: Any])
        let rules = (doc["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
        #expect(rules.contains("truncate-during-conversion"))
    }

    @Test func fixedProfileExitsZeroAndEmitsNothing() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("none.txt").path
        let r = try CLI.run(["explore", "--scenario", "flush-vs-worker-drain", "--profile", "ext4-6.x", "--emit-trace", path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdoutText.contains("no violation"))
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func jsonReportsNumbersAndSteps() throws {
        let r = try CLI.run(["explore", "--scenario", "fsync-vs-conversion", "--profile", "ext4-3.6", "--format", "json"])
        #expect(r.status == 1)
        let doc = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(doc["profile"] as? String == "ext4-3.6")
        #expect((doc["states"] as? Int ?? 0) > 1)
        #expect(doc["states_per_second"] is Double)
        let v = try #require((doc["violations"] as? [[String: Any]])?.first)
        #expect(v["rule"] as? String == "fsync-before-conversion")
        let steps = v["steps"] as? [[String: Any]] ?? []
        #expect(steps.last?["function"] as? String == "ext4_sync_file_exit")
    }

    @Test(arguments: [["explore", "--scenario", "no-such-race"], ["explore"], ["explore", "--scenario", "fsync-vs-conversion", "--bound", "0"],
                      ["explore", "--scenario", "fsync-vs-conversion", "--profile", "ext4-9.9"]])
    func badRequestExitsTwoWithOneLine(_ args: [String]) throws {
        let r = try CLI.run(args)
        #expect(r.status == 2, "exit \(r.status): \(r.stderr)")
        #expect(!r.killedBySignal)
        #expect(r.stderr.split(separator: "\n").count == 1, "stderr: \(r.stderr)")
    }

    /// A bound too small for the schedule: nothing found, and the report says the bound cut it.
    @Test func tinyBoundSaysSo() throws {
        let r = try CLI.run(["explore", "--scenario", "fsync-vs-conversion", "--profile", "ext4-3.6", "--bound", "3"])
        #expect(r.status == 0)
        #expect(r.stdoutText.contains("the bound cut the search"))
    }

    @Test func listNamesEveryBuiltin() throws {
        let r = try CLI.run(["explore", "--list"])
        #expect(r.status == 0)
        for name in ["fsync-vs-conversion", "flush-vs-worker-drain", "reclaim-before-conversion", "truncate-vs-conversion",
                     "freeze-vs-mmap", "mkwrite-vs-writeback", "evict-vs-rsv-work", "io-error-vs-conversion"] {
            #expect(r.stdoutText.contains(name))
        }
    }
}
