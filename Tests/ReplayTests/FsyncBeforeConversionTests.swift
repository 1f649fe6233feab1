import Foundation
import Testing
import TraceIO
import WritebackModel
@testable import Replay

/// fsync-before-conversion. Bug trace and twin are made by
/// Fixtures/make_bug_traces.py from traces/fsync_unwritten.txt (see the
/// README there): the twin is the last fdatasync of the real trace; in the
/// bug trace the conversion worker's runs that the 6.18 kernel made inside
/// the fdatasync are moved 2 ms after `ext4_sync_file_exit`: the 3.6/3.7
/// ordering of seed 002 (writeback ended at completion, fsync found nothing
/// to wait for, the conversion came later).
@Suite struct FsyncBeforeConversionTests {
    @Test func bugIsReported() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("fsync_conversion_bug.txt")))
        let f = try #require(report.findings.first { $0.rule == .fsyncBeforeConversion })
        #expect(f.verdict == .violated)
        #expect(f.ino == 12)
        #expect(f.dev == DeviceNumber(major: 7, minor: 0))
        // The fdatasync wrote pages 1, 8, 15 … (i*7): the first is block 1.
        #expect(f.lblk == 1)
        #expect(f.len > 1000)
        #expect(f.witness.count <= 20)
        #expect(f.witness.contains { $0.name == "ext4_sync_file_exit" })
        #expect(f.witness.contains { $0.name == "block_rq_complete" })
        #expect(f.actors.contains { $0.kind == .irq })
        #expect(report.choice.profile == .ext4_6_x)
        #expect(report.violated == 1)
    }

    @Test func twinIsClean() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("fsync_conversion_twin.txt")))
        #expect(report.findings.isEmpty)
        #expect(report.divergenceCount == 0)
    }

    /// On the old profiles the conversion in fsync's own flush would have to
    /// show CONVERT events on the fsync task: the bug trace diverges from 3.6.
    @Test func bugDivergesFromOldProfile() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("fsync_conversion_bug.txt")),
                                      options: ReplayOptions(profile: .ext4_3_6))
        #expect(report.divergences.contains { $0.kernelFunction == "ext4_flush_completed_IO" })
    }

    /// `--rules` leaves the other rules out.
    @Test func rulesFilter() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("fsync_conversion_bug.txt")),
                                      options: ReplayOptions(rules: [.evictWithPendingIO]))
        #expect(report.findings.isEmpty)
    }
}

/// Verdicts stay honest: issue 7's lost events and clock.
@Suite struct InconclusiveVerdicts {
    /// A LOST record inside the window the verdict depends on (between the
    /// bio completions and the fsync exit) makes the finding inconclusive.
    @Test func lostEventsInWindow() throws {
        var (meta, recs) = try records(Paths.fixture("fsync_conversion_bug.txt"))
        let exit = try #require(recs.firstIndex {
            if case .event(let e) = $0 { return e.name == "ext4_sync_file_exit" }
            return false
        })
        guard case .event(let e) = recs[exit - 1] else { Issue.record("no event"); return }
        recs.insert(.lost(LostEvents(cpu: e.cpu, count: 17, timestamp: e.timestamp)), at: exit - 1)
        meta.clock = "mono"
        let report = Replay.check(records: recs, metadata: meta)
        let f = try #require(report.findings.first { $0.rule == .fsyncBeforeConversion })
        #expect(f.verdict == .inconclusive)
        #expect(f.inconclusiveReason?.contains("17 events were lost") == true)
        #expect(report.violated == 0)
        #expect(report.lostEvents == 17)
    }

    /// Overwrite mode: the header says events were overwritten, so the
    /// story before the first retained event is unknown; this window starts
    /// with the trace, so the verdict cannot stand.
    @Test func overwrittenRingBuffer() throws {
        var (meta, recs) = try records(Paths.fixture("fsync_conversion_bug.txt"))
        meta.entriesInBuffer = 6682
        meta.entriesWritten = 9000
        meta.clock = "mono"
        let first = recs.firstIndex { if case .event = $0 { return true } else { return false } }!
        recs.removeSubrange(first..<(first + 0))
        let report = Replay.check(records: recs, metadata: meta)
        let f = try #require(report.findings.first { $0.rule == .fsyncBeforeConversion })
        #expect(f.verdict == .inconclusive)
        #expect(f.inconclusiveReason?.contains("overwrote") == true)
    }

    /// The same trace with a global clock: violated.
    @Test func globalClockNoLossIsViolated() throws {
        var (meta, recs) = try records(Paths.fixture("fsync_conversion_bug.txt"))
        meta.clock = "mono"
        let report = Replay.check(records: recs, metadata: meta)
        #expect(report.findings.first { $0.rule == .fsyncBeforeConversion }?.verdict == .violated)
        _ = recs.removeLast()
    }

    /// Under a per-CPU clock, deciding events on different CPUs closer than
    /// the bound cannot be ordered: with a 10 s bound every cross-CPU pair is.
    @Test func perCPUClockWithinBound() throws {
        let (meta, recs) = try records(Paths.fixture("fsync_conversion_bug.txt"))
        let report = Replay.check(records: recs, metadata: meta, options: ReplayOptions(crossCPUBound: 10_000_000_000))
        let f = try #require(report.findings.first { $0.rule == .fsyncBeforeConversion })
        #expect(f.verdict == .inconclusive)
        // The reason names the unordered pair: the fsync's return and the late conversion.
        let reason = try #require(f.inconclusiveReason)
        #expect(reason.contains("nothing orders event #"))
        #expect(reason.contains("ext4_sync_file_exit"))
        let unordered = try #require(f.deciding.first { $0.evidence == nil && $0.after != nil })
        #expect(reason.contains("#\(unordered.before.index) ") && reason.contains("#\(unordered.after!.index) "))
    }
}
