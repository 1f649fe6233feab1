import Foundation
import Testing
import TraceIO
import WritebackModel
@testable import Replay

/// unstable-page-write (seed 003). Bug trace and twin are made by
/// Fixtures/make_bug_traces.py (`unstable_page_write`) from
/// traces/stable_mmap.txt, recorded here with `STABLE=1 capture.sh` (the
/// loop device has stable_writes from before the mount): a second process
/// stores into the mapped pages while msync writes them back. The cut runs
/// from the msync return before the storer's first store to the return of
/// the first msync whose writeback it ran into. The twin is that cut,
/// unmodified: each fault dirties the folio in block_page_mkwrite, then
/// waits in folio_wait_stable (`folio_wait_writeback`) until the bio
/// completes. In the bug trace the storer never waits — a kernel without
/// stable pages: its `folio_wait_writeback` lines go and from its first wait
/// on it runs without stalling (each line at most 2 µs after the previous),
/// so its stores land while the folios are under writeback.
@Suite struct UnstablePageWriteTests {
    static let stable = ReplayOptions(stableWrites: true)

    @Test func bugIsReported() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("unstable_write_bug.txt")), options: Self.stable)
        let found = report.findings.filter { $0.rule == .unstablePageWrite }
        #expect(found.count == report.findings.count)
        let f = try #require(found.first { $0.lblk == 0 })
        #expect(f.verdict == .violated)
        #expect(f.dev == DeviceNumber(major: 7, minor: 0))
        #expect(f.ino == 12)
        // The storer writes every fourth page; 32 of its stores (pages
        // 0, 4, … 124) land while this msync has them under writeback.
        #expect(f.lblk == 0)
        #expect(f.len == 1)
        #expect(f.witness.count <= 20)
        #expect(f.witness.contains { $0.name == "block_bio_queue" })
        #expect(f.witness.first { $0.index == f.eventIndex }?.name == "writeback_dirty_folio")
        // The store came after the folio's writeback started and before it ended.
        #expect(f.deciding.count == 2 && f.deciding.allSatisfy { $0.evidence != nil || $0.after == nil })
        #expect(Set(found.map(\.lblk)) == Set((0..<32).map { UInt64($0) * 4 }))
        #expect(found.count == 32)
        #expect(found.allSatisfy { $0.verdict == .violated && $0.len == 1 })
        // Modifiers never wait: the 2.6.39 profile fits without divergence.
        #expect(report.choice.profile == .ext4_2_6_39)
        #expect(report.divergenceCount == 0)
    }

    /// The faults waited for writeback: clean, and 6.x fits.
    @Test func twinIsClean() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("unstable_write_twin.txt")), options: Self.stable)
        #expect(report.findings.isEmpty)
        #expect(report.divergenceCount == 0)
        #expect(report.choice.profile == .ext4_6_x)
    }

    /// Without stable writes the rule is off: the bug trace is clean.
    @Test func ruleNeedsStableWrites() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("unstable_write_bug.txt")))
        #expect(report.findings.isEmpty)
    }

    /// 7.3's `stable_mmap` (traces/kernels/): the storer faults order-2
    /// folios. One `writeback_dirty_folio` dirties the four pages of a folio
    /// under writeback, and the `folio_wait_writeback` that follows names
    /// the folio's first index: the four pages wait together, none of the
    /// stores lands while the folio is under writeback.
    static let largeFolios = "\(LabVerdictTests.folder)/7.3.4+deb13-amd64/default/stable_mmap.dat"

    @Test func aLargeFolioWaitsWhole() throws {
        let report = try Replay.check(TraceFile.open(path: Self.largeFolios))
        #expect(report.findings.isEmpty, "\(report.findings.map { "\($0.rule) \($0.lblk)+\($0.len)" })")
        #expect(report.divergenceCount == 0, "\(report.divergences.map(LabVerdictTests.divergenceClass))")
    }
}
