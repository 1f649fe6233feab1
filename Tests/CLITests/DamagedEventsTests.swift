import Foundation
import Testing

/// Issue 7: what a reader skipped as damaged is reported — `damaged_events` in
/// `stats` (text and JSON) and in `check --format json` — and check says how
/// much of a trace lost events (`lost_windows`, `lost_time_fraction`).
@Suite struct DamagedEventsTests {
    static func fixture(_ name: String) -> String {
        CLI.repoRoot.appendingPathComponent("Tests/Fixtures/damaged/\(name)").path
    }

    func json(_ args: [String], status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let r = try CLI.run(args)
        #expect(!r.killedBySignal, sourceLocation: sourceLocation)
        #expect(r.status == status, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        return try #require(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], sourceLocation: sourceLocation)
    }

    @Test func statsReportsDamagedDatRecords() throws {
        let damaged = try json(["stats", "--no-graph", "--format", "json", Self.fixture("unknown-event-id.dat")])
        #expect(damaged["damaged_events"] as? Int == 1)
        #expect(damaged["events"] as? Int == 372)
        let intact = try json(["stats", "--format", "json", Self.fixture("small.dat")])
        #expect(intact["damaged_events"] as? Int == 0)
        let text = try CLI.run(["stats", "--no-graph", Self.fixture("unknown-event-id.dat")])
        #expect(text.stdoutText.contains("damaged:  1 events skipped"))
    }

    @Test func checkReportsDamagedDatRecords() throws {
        let report = try json(["check", "--format", "json", Self.fixture("huge-field.dat")])
        #expect((report["damaged_events"] as? Int ?? 0) > 0)
        #expect(report["lost_windows"] as? [Any] != nil)
    }

    /// Garbled lines of a text trace: each is counted, in stats and in check.
    @Test func garbledTextLinesAreCounted() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try String(contentsOfFile: CLI.trace("dio_truncate.txt"), encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let eventLines = lines.indices.filter { !lines[$0].hasPrefix("#") && !lines[$0].isEmpty }
        for i in eventLines.prefix(eventLines.count / 2).suffix(25) {
            lines[i] = String(lines[i].reversed())
        }
        let path = dir.appendingPathComponent("garbled.txt").path
        FileManager.default.createFile(atPath: path, contents: Data(lines.joined(separator: "\n").utf8))
        let stats = try json(["stats", "--no-graph", "--format", "json", path])
        #expect(stats["damaged_events"] as? Int == 25)
        let check = try CLI.run(["check", "--format", "json", path])
        #expect(check.status == 0 || check.status == 1)
        let report = try #require(JSONSerialization.jsonObject(with: check.stdout) as? [String: Any])
        #expect(report["damaged_events"] as? Int == 25)
    }

    /// The lost-events trace: windows with CPU, times and counts; the share of
    /// time they cover; no violated finding.
    @Test func checkReportsLostWindows() throws {
        let r = try CLI.run(["check", "--format", "json", CLI.trace("lost-events/lost_events.dat")])
        #expect(r.status == 1 || r.status == 0)
        let report = try #require(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        let windows = try #require(report["lost_windows"] as? [[String: Any]])
        #expect(windows.count >= 2)
        #expect(windows.allSatisfy { ($0["count"] as? Int ?? 0) > 0 && $0["cpu"] != nil && $0["start_ns"] != nil })
        let fraction = try #require(report["lost_time_fraction"] as? Double)
        #expect(fraction > 0 && fraction < 1)
        let summary = try #require(report["summary"] as? [String: Any])
        #expect(summary["violated"] as? Int == 0)
    }
}
