import Foundation
import Testing

/// `graph`, `why`, and what `stats` reports of the graph.
@Suite struct GraphCommandTests {
    @Test(arguments: ConformanceTests.pairs)
    func statsReportObjectsEdgesAndNoUnexplainedUnlinked(name: String) throws {
        for file in [name + ".dat", name + ".txt"] {
            let r = try CLI.run(["stats", "--format", "json", CLI.trace(file)])
            #expect(r.status == 0, "\(r.stderr)")
            let s = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
            let objects = try #require(s["objects"] as? [String: Int])
            let edges = try #require(s["edges"] as? [String: Int])
            let unlinked = try #require(s["unlinked"] as? [String: Int])
            let detail = try #require(s["unlinked_detail"] as? [String: [String: Any]])
            for kind in ["conversion", "work_execution", "bio_completion"] {
                #expect(unlinked[kind] != nil, "\(file): no unlinked count for \(kind)")
                // Unlinked events are allowed only when the trace explains them.
                #expect(detail[kind]?["unexplained"] as? Int == 0, "\(file) \(kind): \(detail[kind] ?? [:])")
            }
            #expect((objects["inode"] ?? 0) > 0 && (objects["work_item"] ?? 0) > 0, "\(file)")
            #expect((edges["program_order"] ?? 0) > 0 && (edges["block_io"] ?? 0) > 0, "\(file)")
        }
    }

    @Test func statsWithoutGraphOmitsGraphKeys() throws {
        let r = try CLI.run(["stats", "--no-graph", "--format", "json", CLI.trace("punch_hole.dat")])
        let s = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(s["edges"] == nil)
        #expect((s["events"] as? Int ?? 0) > 0)
    }

    @Test func dotOutputRendersWithGraphviz() throws {
        // A few hundred nodes: Graphviz lays out thousands slowly.
        let r = try CLI.run(["graph", "--ino", "12", CLI.trace("punch_hole.dat")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.hasPrefix("digraph"))
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dotFile = dir.appendingPathComponent("g.dot")
        try r.stdout.write(to: dotFile)
        let svg = try CLI.run(executable: URL(fileURLWithPath: "/usr/bin/dot"), ["-Tsvg", dotFile.path])
        #expect(svg.status == 0, "\(svg.stderr)")
        #expect(svg.stdoutText.contains("<svg"))
    }

    @Test func jsonGraphOfOneInodeHasOnlyItsEvents() throws {
        let r = try CLI.run(["graph", "--ino", "12", "--format", "json", CLI.trace("punch_hole.dat")])
        #expect(r.status == 0)
        let g = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        let nodes = try #require(g["nodes"] as? [[String: Any]])
        #expect(!nodes.isEmpty)
        #expect(g["edges"] is [[String: Any]])
    }

    /// The chain behind the trace's last CONVERT names the completed bio that
    /// carried its data and the extent that was submitted unwritten.
    @Test func whyAConversionHappened() throws {
        let path = CLI.trace("fsync_unwritten.dat")
        let all = try CLI.run(["events", "--format", "jsonl", path])
        let lines = all.stdout.split(separator: UInt8(ascii: "\n"))
        var lastConvert: Int?
        for line in lines where line.count > 60 {
            let s = String(decoding: line, as: UTF8.self)
            // CONVERT is EXT4_GET_BLOCKS_CONVERT (0x10) in the flags of the 6.18 format.
            if s.contains("\"ext4_ext_handle_unwritten_extents\""),
               let o = try JSONSerialization.jsonObject(with: line) as? [String: Any],
               let f = (o["fields"] as? [String: Any])?["flags"] as? Int, f & 0x10 != 0 {
                lastConvert = o["index"] as? Int
            }
        }
        let index = try #require(lastConvert)
        let r = try CLI.run(["why", "--event", String(index), path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.contains("=> #\(index)"))
        #expect(r.stdoutText.contains("bio_conversion"))
        #expect(r.stdoutText.contains("extent_conversion"))
    }

    @Test func whyRejectsAnIndexOutsideTheTrace() throws {
        let r = try CLI.run(["why", "--event", "100000000", CLI.trace("punch_hole.dat")])
        #expect(r.status == 2)
        #expect(r.stderr.contains("events"))
        #expect(!r.killedBySignal)
    }
}
