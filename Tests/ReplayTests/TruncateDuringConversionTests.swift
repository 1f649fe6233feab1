import Foundation
import Testing
import TraceIO
import WritebackModel
@testable import Replay

/// truncate-during-conversion (seed 002). Bug trace and twin are made by
/// Fixtures/make_bug_traces.py (`truncate_during_conversion`) from
/// traces/punch_after_writeback.txt (recorded here: a buffered write into a
/// fallocated range, `sync_file_range(WRITE)`, then a punch of that range).
/// The cut runs from sync_file_range to the punch's return. The twin is that
/// cut, unmodified: 6.18's punch waited in truncate_pagecache_range until
/// the conversion released the folio. In the bug trace writeback ends at the
/// completion (`sb_clear_inode_writeback` in the irq), the worker has started
/// (list_replace_init) but the rest of its run — CONVERT, es W,
/// execute_end — comes 1 ms after the punch returned: Kara's race in
/// Monakhov's V4 cleanup, where the punch's ext4_flush_completed_IO found the
/// list empty.
@Suite struct TruncateDuringConversionTests {
    @Test func bugIsReported() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("truncate_conversion_bug.txt")))
        let f = try #require(report.findings.first { $0.rule == .truncateDuringConversion })
        #expect(f.verdict == .violated)
        #expect(f.dev == DeviceNumber(major: 7, minor: 0))
        #expect(f.ino == 12)
        // The punch removed 0–1 MiB: blocks 0–255, all written by the io_end.
        #expect(f.lblk == 0)
        #expect(f.len == 256)
        #expect(f.witness.count <= 20)
        #expect(f.witness.contains { $0.name == "ext4_ext_remove_space" })
        #expect(f.witness.contains { $0.name == "workqueue_execute_start" })
        #expect(report.findings.count == 1)
        // The V4 drain race fits exactly.
        #expect(report.choice.profile == .ext4_3_7_v4)
        #expect(report.divergenceCount == 0)
    }

    @Test func twinIsClean() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("truncate_conversion_twin.txt")))
        #expect(report.findings.isEmpty)
        #expect(report.divergenceCount == 0)
        #expect(report.choice.profile == .ext4_6_x)
    }

    /// 3.7 as merged waits for i_unwritten after the flush: the bug trace
    /// diverges there instead of fitting.
    @Test func bugDivergesFromMerged37() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("truncate_conversion_bug.txt")),
                                      options: ReplayOptions(profile: .ext4_3_7))
        #expect(report.divergenceCount > 0)
    }
}
