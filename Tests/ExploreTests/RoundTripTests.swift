import Foundation
import Testing
import TraceIO
import WritebackModel
@testable import Explore
@testable import Replay

/// Issue 8, "round trip": a counterexample the explorer emits, read back as
/// a tracefs `trace` file and replayed by `check` with the same profile, is
/// flagged with the same rule.
@Suite struct RoundTripTests {

    static func emitted(_ name: String, _ profile: KernelProfile) throws -> (Scenario, Counterexample, String) {
        let scenario = try #require(BuiltinScenarios.named(name))
        let result = try Explorer(scenario: scenario, profile: profile).run(bound: ExploreBound(depth: scenario.defaultBound))
        let c = try #require(result.counterexamples.first { $0.rule == scenario.rule })
        return (scenario, c, TraceEmitter(scenario: scenario, profile: profile).text(for: c))
    }

    static func write(_ text: String, _ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wbreplay-explore-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name + ".txt").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: ScenarioProfiles.bug)
    func emittedTraceIsFlaggedWithTheSameRule(_ name: String, _ profile: KernelProfile) throws {
        let (scenario, c, text) = try Self.emitted(name, profile)
        let path = try Self.write(text, "\(name)-\(profile)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try Replay.check(TraceFile.open(path: path), options: ReplayOptions(profile: profile))
        #expect(report.findings.contains { $0.rule == scenario.rule && $0.verdict == .violated },
                "\(name) on \(profile): \(report.findings.map(\.rule)), divergences \(report.divergences)")
        // The same objects: the inode and first block the explorer's violation names.
        let f = report.findings.first { $0.rule == scenario.rule }
        #expect(f?.ino == c.violation.inode?.ino)
        #expect(f?.lblk == c.violation.range?.lblk)
    }

    /// seed 003's window is from `__folio_start_writeback` (6.18 prints
    /// `sb_mark_inode_writeback` for the inode's first folio) to the end of
    /// writeback (`sb_clear_inode_writeback`), not from `block_bio_queue`.
    /// Moving the writer's fault out of it, to just before the mark or just
    /// after the clear, gives twins `check` must not flag.
    @Test(arguments: ["sb_mark_inode_writeback", "sb_clear_inode_writeback"])
    func mkwriteOutsideTheWritebackWindowIsNotFlagged(_ boundary: String) throws {
        let profile = KernelProfile.ext4_2_6_39
        let (scenario, _, text) = try Self.emitted("mkwrite-vs-writeback", profile)
        let writer = try #require(scenario.actor(.task(1)))
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The writer's fault is its last line, inside the window.
        let fault = try #require(lines.lastIndex { $0.contains("-\(writer.pid) ") })
        #expect(fault > (lines.firstIndex { $0.contains(": sb_mark_inode_writeback: ") } ?? .max))
        let moved = lines.remove(at: fault)
        let at = try #require(lines.firstIndex { $0.contains(": \(boundary): ") })
        // Timestamps stay ordered: the moved line takes its new neighbour's time.
        let time = { (line: String) in line.split(separator: " ").first { $0.hasSuffix(":") && $0.contains(".") } }
        let (old, new) = (try #require(time(moved)), try #require(time(lines[at])))
        lines.insert(moved.replacingOccurrences(of: " \(old) ", with: " \(new) "),
                     at: boundary == "sb_mark_inode_writeback" ? at : at + 1)
        let path = try Self.write(lines.joined(separator: "\n"), "mkwrite-twin-\(boundary)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try Replay.check(TraceFile.open(path: path), options: ReplayOptions(profile: profile))
        #expect(report.findings.isEmpty, "\(report.findings.map(\.rule))")
        #expect(report.divergences.isEmpty)
    }

    /// The emitted text is a tracefs `trace` file the reader takes whole:
    /// the header it expects, every line matched by its event's print format.
    @Test(arguments: ScenarioProfiles.bug)
    func emittedTraceParsesCleanly(_ name: String, _ profile: KernelProfile) throws {
        let (_, c, text) = try Self.emitted(name, profile)
        #expect(text.hasPrefix("# tracer: nop\n#\n# entries-in-buffer/entries-written: "))
        let path = try Self.write(text, "\(name)-\(profile)-parse")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try TextReader(path: path)
        var events: [TraceEvent] = []
        try reader.forEach(ReadOptions(fields: .all, keepRawText: false)) { if case .event(let e) = $0 { events.append(e) } }
        #expect(reader.damagedLines == 0)
        #expect(reader.unmatchedFieldLines == 0)
        #expect(reader.metadata.clock == "mono")
        #expect(reader.metadata.recording["scenario"] == name)
        // Timestamps never go back; every actor of the schedule prints under its own pid.
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.timestamp <= $1.timestamp })
        let scenario = try #require(BuiltinScenarios.named(name))
        for actor in Set(c.steps.map(\.transition.actor)) where actor != .reclaim {
            let pid = try #require(scenario.actor(actor)?.pid)
            #expect(events.contains { $0.pid == pid }, "\(actor) printed nothing")
        }
    }

    /// The other direction: under the fixed 6.x profile no scenario breaks
    /// a rule, so there is no counterexample and nothing to emit.
    @Test(arguments: BuiltinScenarios.all.map(\.name))
    func modernProfileEmitsNothing(_ name: String) throws {
        let scenario = try #require(BuiltinScenarios.named(name))
        let result = try Explorer(scenario: scenario, profile: .ext4_6_x).run(bound: ExploreBound(depth: scenario.defaultBound))
        #expect(result.counterexamples.isEmpty)
        #expect(!result.truncated)
    }
}
