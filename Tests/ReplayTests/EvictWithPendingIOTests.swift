import Foundation
import Testing
import TraceIO
import WritebackModel
@testable import Replay

/// evict-with-pending-io (seed 000, f7ad6d2e9201a, CVE-2025-38580). Bug
/// trace and twin are made by Fixtures/make_bug_traces.py
/// (`evict_with_pending_io`) from traces/rename_over_dirty.txt: the cut runs
/// from the allocation of inode 13 ("tmp", one 14-byte write that
/// auto_da_alloc writes back into a new unwritten block at the rename) to
/// its free one round later, when as "target" it is renamed over. The twin
/// is that cut, unmodified (6.18 converted 50 µs after the completion). In
/// the bug trace the conversion worker, stalled, runs its two queued works
/// (inode 13's, then inode 12's, in queue order) only 1 ms after
/// `ext4_free_inode` of inode 13, and each inode's
/// `sb_clear_inode_writeback` moves into the completing irq: the order of
/// a kernel whose writeback ended in `ext4_end_bio` and whose evict did not
/// wait for pending io_ends.
@Suite struct EvictWithPendingIOTests {
    @Test func bugIsReported() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("evict_pending_io_bug.txt")))
        let f = try #require(report.findings.first { $0.rule == .evictWithPendingIO })
        #expect(f.verdict == .violated)
        #expect(f.dev == DeviceNumber(major: 7, minor: 0))
        #expect(f.ino == 13)
        #expect(f.lblk == 0)
        #expect(f.len == 1)
        #expect(f.witness.count <= 20)
        #expect(f.witness.contains { $0.name == "ext4_free_inode" })
        #expect(f.witness.contains { $0.name == "block_rq_complete" })
        #expect(report.findings.count == 1)
        // Only the missing wait diverges from the ≤3.7 profiles: evict
        // would have waited for i_ioend_count.
        #expect(KernelTraits(report.choice.profile).endsWritebackBeforeConversion)
        #expect(report.divergenceCount == 1)
        #expect(report.divergences.first?.kernelFunction == "ext4_ioend_wait")
    }

    @Test func bugUnderModernProfile() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("evict_pending_io_bug.txt")),
                                      options: ReplayOptions(profile: .ext4_6_x))
        #expect(report.findings.contains { $0.rule == .evictWithPendingIO && $0.ino == 13 && $0.verdict == .violated })
    }

    @Test func twinIsClean() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("evict_pending_io_twin.txt")))
        #expect(report.findings.isEmpty)
        #expect(report.divergenceCount == 0)
        #expect(report.choice.profile == .ext4_6_x)
    }
}
