import Foundation
import Testing
import TraceIO
import KernelEvents
@testable import EventGraph

/// The graph over the kernel lab's recordings (traces/kernels/): each
/// kernel's own request flags for writeback into unwritten space.
@Suite struct LabGraphTests {
    static let kernels = Samples.tracesDir.appendingPathComponent("kernels")

    /// The graph of a lab recording; nil (and a recorded issue) when it is not shipped.
    static func graph(_ recording: String) throws -> EventGraph? {
        let path = kernels.appendingPathComponent(recording + ".dat").path
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("the lab recording is missing: \(path)")
            return nil
        }
        return try EventGraph.build(from: DatReader(path: path))
    }

    /// 6.18 passes `EXT4_GET_BLOCKS_IO_CREATE_EXT` (PRE_IO) for writeback and
    /// DIO into unwritten space; 7.x has no PRE_IO (bit 0x8 is SPLIT_NOMERGE)
    /// and writeback passes CREATE|UNWRIT|METADATA_NOFAIL|IO_SUBMIT. Neither
    /// a conversion nor fallocate's CREATE|UNWRIT maps for I/O.
    @Test func mapForIOUnderEveryKernelsFlags() {
        #expect(MapFlags(rawValue: 0x4000_042B).mapsUnwrittenForIO)   // 6.18 writeback
        #expect(MapFlags(rawValue: 0x0B).mapsUnwrittenForIO)          // 6.18 DIO
        #expect(MapFlags(rawValue: 0x4000_0423).mapsUnwrittenForIO)   // 7.3 writeback
        #expect(!MapFlags(rawValue: 0x4000_0413).mapsUnwrittenForIO)  // 7.3 conversion
        #expect(!MapFlags(rawValue: 0x4000_0433).mapsUnwrittenForIO)  // its handle_unwritten_extents
        #expect(!MapFlags(rawValue: 0x43).mapsUnwrittenForIO)         // fallocate
        #expect(!MapFlags(rawValue: 0x4000_0421).mapsUnwrittenForIO)  // nodelalloc writeback: no UNWRIT
    }

    /// 7.3's fsync into a fallocated file: every conversion follows the
    /// extent its writeback mapped and its bios' completion (the recorder
    /// keeps the irqs of its own CPUs: no completion is missing).
    @Test func sevenXWritebackConversionsFollowTheirExtents() throws {
        guard let g = try Self.graph("7.3.4+deb13-amd64/default/fsync_unwritten") else { return }
        let linked = g.conversions.filter(\.isLinked)
        #expect(linked.count >= 850, "\(linked.count) of \(g.conversions.count) conversions linked")
        #expect(linked.count == g.conversions.count)
        #expect(g.unlinkedCounts[.conversion].map { $0.explained + $0.unexplained } ?? 0 == 0)
    }

    /// 7.3's direct I/O into a fallocated file maps nothing: the task finds
    /// the unwritten extent in the extent-status cache and queues its bio.
    /// Every conversion still follows the blocks that bio carried, and the
    /// geometry stays the one the writes show (a conversion's mapping is not
    /// paired with the task's next bio).
    @Test func sevenXDirectIOConversionsFollowTheBlocksFound() throws {
        guard let g = try Self.graph("7.3.4+deb13-amd64/default/dio_truncate") else { return }
        let conversions = g.conversions
        let unlinked = conversions.filter { !$0.isLinked }.map(\.conversion)
        #expect(conversions.count == 32)
        #expect(unlinked.isEmpty, "unlinked CONVERTs \(unlinked)")
        #expect(g.unlinkedCounts[.conversion].map { $0.explained + $0.unexplained } == 0)
        let geometry = try #require(g.geometries.first)
        #expect(geometry.startSector == 0 && geometry.blockSize == 4096)
        // Each bio carries the 256 blocks its conversion converts, no more.
        for c in conversions {
            #expect(c.extent.len == 256)
            #expect(c.bios.count == 1)
        }
    }
}
