import Foundation
import Testing
import TraceIO
import KernelEvents
@testable import EventGraph

@Suite struct RealTraceGraphTests {
    static let traces = Samples.names

    @Test(arguments: traces, Samples.formats)
    func everyConversionIsLinkedToItsExtentAndCompletedBio(name: String, format: String) throws {
        let g = try Samples.graph(name, format)
        #expect(!g.conversions.isEmpty, "every sample trace converts unwritten extents")
        for c in g.conversions {
            #expect(!c.submissions.isEmpty, "CONVERT #\(c.conversion) has no extent mapped for I/O")
            #expect(!c.completions.isEmpty, "CONVERT #\(c.conversion) has no completed bio")
            for s in c.submissions {
                #expect(s < c.conversion)
                #expect(g.inode(of: s) == c.inode)
                #expect(g.isBefore(s, c.conversion))
            }
            for done in c.completions {
                #expect(g.eventName(done) == "block_rq_complete" || g.eventName(done) == "block_bio_complete")
                #expect(g.isBefore(done, c.conversion), "completion #\(done) not before CONVERT #\(c.conversion)")
            }
            // The bio that carried the data was queued after the extent was mapped.
            for b in c.bios { #expect(c.submissions.contains { $0 < b }) }
            #expect(c.written != nil, "CONVERT #\(c.conversion) not followed by es_insert_extent W")
        }
    }

    @Test(arguments: traces, Samples.formats)
    func everyWorkExecutionIsLinkedToItsQueueing(name: String, format: String) throws {
        let g = try Samples.graph(name, format)
        let executions = g.workItems.filter { $0.started != nil }
        #expect(!executions.isEmpty)
        for item in executions {
            if item.key.function == "wq_barrier_func" { continue } // inserted without queue_work by the kernel
            guard let start = item.started else { continue }
            let queued = try #require(item.queued, "work \(item.key) started at #\(start) without queueing")
            #expect(queued < start)
            #expect(g.isBefore(queued, start))
            if let end = item.ended { #expect(g.isBefore(start, end)) }
        }
    }

    @Test(arguments: traces, Samples.formats)
    func unlinkedEventsAreNoneOrExplained(name: String, format: String) throws {
        let g = try Samples.graph(name, format)
        let counts = g.unlinkedCounts
        for kind in [UnlinkedKind.conversion, .workExecution, .bioCompletion] {
            #expect(counts[kind] != nil, "kind \(kind) always reported")
        }
        for u in g.unlinked {
            #expect(u.isExplained, "\(name): unexplained \(u.kind) at #\(u.node): \(u.detail)")
        }
    }

    @Test(arguments: traces, Samples.formats)
    func geometryIsDerivedFromTheTrace(name: String, format: String) throws {
        let g = try Samples.graph(name, format)
        // The samples are ext4 on a loop device made with 4 KiB blocks: the
        // derivation must find exactly that, from pblk/sector pairs.
        let geometry = try #require(g.geometries.first)
        #expect(geometry.blockSize == 4096)
        #expect(geometry.startSector == 0)
        #expect(geometry.fsDevice == geometry.diskDevice)
    }

    @Test(arguments: Samples.formats)
    func renameOverDirtyFreedAndNewIno12AreDifferentObjects(format: String) throws {
        let g = try Samples.graph("rename_over_dirty", format)
        var freed: [Int] = [], allocated: [Int] = []
        for i in 0..<g.eventCount {
            guard g.inode(of: i)?.ino == 12 else { continue }
            switch g.eventName(i) {
            case "ext4_free_inode": freed.append(i)
            case "ext4_allocate_inode": allocated.append(i)
            default: break
            }
        }
        #expect(!freed.isEmpty)
        var reuses = 0
        for f in freed {
            guard let a = allocated.first(where: { $0 > f }) else { continue }
            reuses += 1
            let old = try #require(g.inode(of: f)), new = try #require(g.inode(of: a))
            #expect(old != new)
            #expect(old.key == new.key)
            // Every event of ino 12 between the reallocation and the next free is the new object.
            let nextFree = freed.first { $0 > a } ?? g.eventCount
            for i in a..<nextFree where g.inode(of: i)?.ino == 12 && g.inode(of: i)?.dev == new.dev {
                #expect(g.inode(of: i) == new)
            }
        }
        #expect(reuses > 0)
        // Conversions of different generations are different objects too.
        let generations = Set(g.conversions.filter { $0.inode.ino == 12 }.map(\.inode.generation))
        #expect(generations.count > 1)
    }

    @Test func causalChainOfAConversionReachesTheWriteback() throws {
        let g = try Samples.graph("fsync_unwritten")
        let c = try #require(g.conversions.first)
        let chain = g.causalChain(to: c.conversion)
        let names = Set(chain.steps.map { g.eventName($0.node) })
        #expect(names.contains("workqueue_execute_start"))
        #expect(names.contains("block_rq_complete"))
        #expect(names.contains("ext4_ext_map_blocks_exit"))
        #expect(chain.steps.last?.node == c.conversion)
    }

    @Test func dotOutputRendersWithGraphviz() throws {
        let g = try Samples.graph("punch_hole")
        let dot = DOTGraphFormatter().format(g.subgraph(.inode(12)))
        #expect(dot.hasPrefix("digraph"))
        let (status, svg) = try renderWithGraphviz(dot)
        #expect(status == 0)
        #expect(svg.contains("<svg"))
        #expect(svg.contains("ext4_ext_handle_unwritten_extents"))
    }

    @Test func jsonOutputIsValidJSON() throws {
        let g = try Samples.graph("reclaim_reread")
        let text = JSONGraphFormatter().format(g.subgraph(.inode(12)))
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let nodes = try #require(object?["nodes"] as? [[String: Any]])
        let edges = try #require(object?["edges"] as? [[String: Any]])
        #expect(!nodes.isEmpty && !edges.isEmpty)
        #expect(edges.contains { $0["kind"] as? String == "bio_conversion" })
    }

    /// The two readers give the same events, so the same graph.
    @Test(arguments: traces)
    func textAndTraceDatGiveTheSameGraph(name: String) throws {
        let dat = try Samples.graph(name, "dat"), txt = try Samples.graph(name, "txt")
        #expect(dat.eventCount == txt.eventCount)
        #expect(dat.objectCounts == txt.objectCounts)
        #expect(dat.edgeCounts == txt.edgeCounts)
        #expect(dat.unlinkedCounts == txt.unlinkedCounts)
        #expect(dat.inodes == txt.inodes)
        #expect(dat.geometries == txt.geometries)
        let key = { (c: ConversionLink) in "\(c.inode) \(c.extent) \(c.submissions.count) \(c.completions.count)" }
        #expect(dat.conversions.map(key).sorted() == txt.conversions.map(key).sorted())
    }
}
