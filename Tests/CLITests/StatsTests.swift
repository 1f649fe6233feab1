import Foundation
import Testing

@Suite struct StatsTests {
    func stats(_ file: String) throws -> [String: Any] {
        let r = try CLI.run(["stats", "--format", "json", file])
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
    }

    @Test(arguments: ConformanceTests.pairs)
    func datStatsAgreeWithTraceCmdReport(name: String) throws {
        let path = CLI.trace(name + ".dat")
        let oracle = try ReportOracle.report(path)
        let s = try stats(path)
        for key in ["events", "by_event", "by_cpu", "lost_by_cpu", "first_ns", "last_ns", "clock"] {
            #expect(s.keys.contains(key) || key == "clock", "missing key \(key)")
        }
        #expect((s["events"] as? NSNumber)?.intValue == oracle.count)
        let byEvent = try #require(s["by_event"] as? [String: NSNumber])
        var expected: [String: Int] = [:]
        for e in oracle { expected[e.name, default: 0] += 1 }
        #expect(byEvent.mapValues(\.intValue) == expected)
        let byCPU = try #require(s["by_cpu"] as? [String: NSNumber])
        var expectedCPU: [String: Int] = [:]
        for e in oracle { expectedCPU[String(e.cpu), default: 0] += 1 }
        #expect(byCPU.mapValues(\.intValue) == expectedCPU)
        #expect((s["first_ns"] as? NSNumber)?.uint64Value == oracle.map(\.timestamp).min())
        #expect((s["last_ns"] as? NSNumber)?.uint64Value == oracle.map(\.timestamp).max())
        #expect((s["devices"] as? [String])?.contains("7:0") == true)
    }

    @Test(arguments: ConformanceTests.pairs)
    func textAndDatStatsAgree(name: String) throws {
        let d = try stats(CLI.trace(name + ".dat"))
        let t = try stats(CLI.trace(name + ".txt"))
        #expect((d["by_event"] as? [String: NSNumber]) == (t["by_event"] as? [String: NSNumber]))
        #expect((d["by_cpu"] as? [String: NSNumber]) == (t["by_cpu"] as? [String: NSNumber]))
        #expect((d["devices"] as? [String]) == (t["devices"] as? [String]))
        #expect((d["inodes"] as? [String]) == (t["inodes"] as? [String]))
    }

    @Test func textStatsReadable() throws {
        let r = try CLI.run(["stats", CLI.trace("punch_hole.txt")])
        #expect(r.status == 0)
        #expect(r.stdoutText.contains("events:"))
        #expect(r.stdoutText.contains("ext4_punch_hole"))
    }
}
