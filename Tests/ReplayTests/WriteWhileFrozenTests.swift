import Foundation
import Testing
import TraceIO
import WritebackModel
@testable import Replay

/// write-while-frozen (seed 001). Bug trace and twin are made by
/// Fixtures/make_bug_traces.py (`write_while_frozen`) from
/// traces/freeze_mmap.txt: the cut runs from the first msync to the return of
/// FITHAW. The twin is that cut, unmodified: the second round of mmap stores
/// (one per 64 KiB, 64 write faults) and its msync ran while FIFREEZE was
/// still inside freeze_super — writes during the ioctl are legal. In the bug
/// trace the same stores and their msync (writeback, completions,
/// conversion) come 1 ms after FIFREEZE returned: a kernel whose
/// `ext4_page_mkwrite` did not wait for a freeze (before sb_start_pagefault).
@Suite struct WriteWhileFrozenTests {
    @Test func bugIsReported() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("freeze_write_bug.txt")))
        let found = report.findings.filter { $0.rule == .writeWhileFrozen }
        #expect(found.count == report.findings.count)
        let f = try #require(found.first)
        #expect(f.verdict == .violated)
        #expect(f.dev == DeviceNumber(major: 7, minor: 0))
        #expect(f.ino == 12)
        // The first store lands on page 0 (4 KiB blocks).
        #expect(f.lblk == 0)
        #expect(f.len == 1)
        #expect(f.witness.count <= 20)
        #expect(f.witness.first?.name == "sys_exit_ioctl")
        #expect(f.witness.first { $0.index == f.eventIndex }?.name == "writeback_dirty_folio")
        // Frozen before the store: FIFREEZE's return orders it (one task's program order).
        #expect(f.deciding.first?.before.name == "sys_exit_ioctl")
        #expect(f.deciding.first?.evidence != nil)
        // 64 folios dirtied (one per 64 KiB), and each one's bio submitted and issued.
        let dirtied = found.filter { f in f.witness.first { $0.index == f.eventIndex }?.name == "writeback_dirty_folio" }
        #expect(dirtied.map(\.lblk) == (0..<64).map { UInt64($0) * 16 })
        #expect(found.count == 3 * 64)
        #expect(found.allSatisfy { $0.verdict == .violated })
    }

    /// Writes during the FIFREEZE ioctl (before it returned) are legal.
    @Test func twinIsClean() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("freeze_write_twin.txt")))
        #expect(report.findings.isEmpty)
        #expect(report.divergenceCount == 0)
    }
}
