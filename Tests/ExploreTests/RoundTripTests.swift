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
    static let cases: [(String, KernelProfile)] = BuiltinScenarios.all.flatMap { s in s.bugProfiles.map { (s.name, $0) } }

    /// Schedules whose deciding step Replay does not map from the events 6.18
    /// prints (see `knownReplayGaps`); their tests stay honest: they expect
    /// the finding and record the known issue while it is missing.
    static let knownReplayGaps: [String: String] = [
        "mkwrite-vs-writeback": "PG_writeback is set in ext4_bio_write_folio (sb_mark_inode_writeback) before block_bio_queue; Replay starts the folio's writeback only at block_bio_queue, so a write fault in between is not seen under writeback",
    ]

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

    @Test(arguments: cases)
    func emittedTraceIsFlaggedWithTheSameRule(_ name: String, _ profile: KernelProfile) throws {
        let (scenario, c, text) = try Self.emitted(name, profile)
        let path = try Self.write(text, "\(name)-\(profile)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try Replay.check(TraceFile.open(path: path), options: ReplayOptions(profile: profile))
        let flagged = report.findings.contains { $0.rule == scenario.rule && $0.verdict == .violated }
        if let gap = Self.knownReplayGaps[name] {
            withKnownIssue(Comment(rawValue: gap)) {
                #expect(flagged, "\(name) on \(profile): \(report.findings.map(\.rule))")
            }
        } else {
            #expect(flagged, "\(name) on \(profile): \(report.findings.map(\.rule)), divergences \(report.divergences)")
            // The same objects: the inode and first block the explorer's violation names.
            let f = report.findings.first { $0.rule == scenario.rule }
            #expect(f?.ino == c.violation.inode?.ino)
            #expect(f?.lblk == c.violation.range?.lblk)
        }
    }

    /// The emitted text is a tracefs `trace` file the reader takes whole:
    /// the header it expects, every line matched by its event's print format.
    @Test(arguments: cases)
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
