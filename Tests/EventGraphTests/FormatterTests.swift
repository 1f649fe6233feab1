import Foundation
import Testing
import TraceIO
@testable import EventGraph

/// Runs `dot -Tsvg` on `input` (Graphviz from Debian) and returns the SVG.
func renderWithGraphviz(_ input: String) throws -> (status: Int32, svg: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/dot")
    p.arguments = ["-Tsvg"]
    let inPipe = Pipe(), outPipe = Pipe()
    p.standardInput = inPipe
    p.standardOutput = outPipe
    p.standardError = FileHandle.nullDevice
    try p.run()
    // Write from another thread: dot may fill the output pipe before reading all input.
    let writer = Thread {
        inPipe.fileHandleForWriting.write(Data(input.utf8))
        try? inPipe.fileHandleForWriting.close()
    }
    writer.start()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: out, as: UTF8.self))
}

@Suite struct FormatterTests {
    func storyGraph() -> (EventGraph, Int) {
        var s = Synthetic()
        let story = s.conversionStory(lblk: 3, pblk: 4000)
        // A comm with characters DOT and JSON must escape.
        s.records.append(.event(TraceEvent(timestamp: s.now + 1, cpu: 0, pid: 77, comm: "we\"ird\\name", name: "ext4_truncate_enter",
                                           fields: EventFields([EventField("dev", s.d), EventField("ino", .unsigned(12))]))))
        return (s.graph(), story.convert)
    }

    @Test func dotRendersWithGraphviz() throws {
        let (g, convert) = storyGraph()
        let dot = DOTGraphFormatter().format(g.subgraph(.inode(12)))
        #expect(dot.contains("n\(convert)"))
        let (status, svg) = try renderWithGraphviz(dot)
        #expect(status == 0)
        #expect(svg.contains("<svg"))
        #expect(svg.contains("ext4_ext_handle_unwritten_extents"))
    }

    @Test func brokenDotIsRejectedByGraphviz() throws {
        // The check above can fail: Graphviz does reject malformed input.
        let (status, _) = try renderWithGraphviz("digraph { n1 -> }")
        #expect(status != 0)
    }

    @Test func jsonIsValidAndCarriesKinds() throws {
        let (g, convert) = storyGraph()
        let text = JSONGraphFormatter().format(g.subgraph(.inode(12)))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let nodes = try #require(object["nodes"] as? [[String: Any]])
        let edges = try #require(object["edges"] as? [[String: Any]])
        #expect(nodes.contains { $0["id"] as? Int == convert && $0["inode"] as? String == "7:0:12" })
        #expect(nodes.contains { $0["comm"] as? String == "we\"ird\\name" })
        let kinds = Set(edges.compactMap { $0["kind"] as? String })
        #expect(kinds.isSuperset(of: ["extent_bio", "block_io", "bio_conversion", "extent_conversion", "conversion_written", "work"]))
    }

    @Test func inodeSubgraphPullsInLinkedBlockAndWorkEventsOnly() {
        var s = Synthetic()
        let story = s.conversionStory(lblk: 3, pblk: 4000)
        let other = s.block("block_bio_queue", pid: 900, sector: 99_999_000, nr: 8)
        let g = s.graph()
        let ids = Set(g.subgraph(.inode(12)).nodes.map(\.index))
        #expect(ids.isSuperset(of: [story.bio, story.complete, story.queue, story.start, story.end]))
        #expect(!ids.contains(other))
        #expect(g.subgraph(.inode(4242)).nodes.isEmpty)
    }

    @Test func causalChainSubgraphKeepsProgramOrderSteps() {
        var s = Synthetic()
        let story = s.conversionStory(lblk: 3, pblk: 4000)
        let g = s.graph()
        let chain = g.causalChain(to: story.written)
        let sub = g.subgraph(chain)
        #expect(sub.edges.contains { $0.from == story.convert && $0.to == story.written })
        #expect(sub.nodes.map(\.index) == chain.steps.map(\.node))
    }
}
