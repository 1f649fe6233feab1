import Foundation
import Testing
import TraceIO
import WritebackModel
@testable import Replay

/// stale-read-before-conversion (seed 000). Bug trace and twin are made by
/// Fixtures/make_bug_traces.py (`stale_read_before_conversion`) from
/// traces/reclaim_reread.txt: the cut runs from the sync's writeback of
/// inode 12 (one 2048-block io_end into a fallocated, unwritten range) to
/// cmp's re-read of the first 16 KiB. The twin is that cut, unmodified: the
/// 6.18 kernel converted before drop_caches. In the bug trace drop_caches and
/// the re-read happen right after the last data completion and the
/// conversion worker only runs 2 ms later: the ≤3.10 ordering, where
/// writeback ended in `ext4_end_bio` (so `sb_clear_inode_writeback` moves
/// into the irq and sync's waits after the completions go) and nothing kept
/// the folios in the page cache; the read finds the blocks unwritten and
/// zero-fills without a bio.
@Suite struct StaleReadBeforeConversionTests {
    @Test func bugIsReported() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("stale_read_bug.txt")))
        let found = report.findings.filter { $0.rule == .staleReadBeforeConversion }
        // cmp read pages 0–3 back (4 KiB blocks): one finding per folio.
        #expect(found.map(\.lblk) == [0, 1, 2, 3])
        for f in found {
            #expect(f.verdict == .violated)
            #expect(f.dev == DeviceNumber(major: 7, minor: 0))
            #expect(f.ino == 12)
            #expect(f.len == 1)
            #expect(f.witness.count <= 20)
            #expect(f.witness.contains { $0.name == "block_rq_complete" })
            #expect(f.witness.contains { $0.name == "mm_filemap_add_to_page_cache" })
            // The read came before the conversion, which the worker made later.
            let late = try #require(f.deciding.last?.after)
            #expect(late.index > f.eventIndex)
            #expect(f.witness.contains { $0.index == late.index })
        }
        #expect(report.findings.allSatisfy { $0.rule == .staleReadBeforeConversion })
        // Writeback ended at completion: the ≤3.7 profiles fit without divergence.
        #expect(KernelTraits(report.choice.profile).endsWritebackBeforeConversion)
        #expect(report.divergenceCount == 0)
    }

    /// Replayed against 6.x the bug is still reported (rules do not depend on
    /// the profile); the trace diverges where writeback ended early.
    @Test func bugUnderModernProfile() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("stale_read_bug.txt")),
                                      options: ReplayOptions(profile: .ext4_6_x))
        #expect(report.findings.filter { $0.rule == .staleReadBeforeConversion && $0.verdict == .violated }.count == 4)
        #expect(report.divergences.contains { $0.kernelFunction == "sb_clear_inode_writeback" })
    }

    @Test func twinIsClean() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("stale_read_twin.txt")))
        #expect(report.findings.isEmpty)
        #expect(report.divergenceCount == 0)
        #expect(report.choice.profile == .ext4_6_x)
    }
}
