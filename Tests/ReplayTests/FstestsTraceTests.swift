import Foundation
import Testing
import TraceIO
@testable import Replay

/// xfstests runs recorded with `wbreplay record` on this 6.18 kernel
/// (Tools/fstests/run.sh, traces/fstests/README.md): traces nobody tuned the
/// model for. The kernel was healthy and each test passed, so `check` must
/// report no violation on any of them.
///
/// Where it does today, the trace is listed in `knownIssues` with what the
/// kernel did and why the replay disagrees: the test then expects the
/// violation (`withKnownIssue`), and fails once the replay no longer reports
/// it, so that the entry is removed with the fix.
@Suite struct FstestsTraceTests {
    static let folder = Paths.trace("fstests")

    static var traces: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".dat") }.sorted()
    }

    /// Traces on which `check` reports violations today, and why they are false.
    static let knownIssues: [String: String] = [
        "generic-008.dat": jbd2NoSubmitCycle,
        "generic-392.dat": mergedBioCompletion,
        "generic-468.dat": mergedBioCompletion,
        "generic-263.dat": overwriteBioOnLeftoverFolio,
    ]

    /// 6.18.44's `ext4_bio_write_folio` (stable backport of "ext4: fix stale
    /// xarray tags after writeback") cycles a folio it has nothing to submit
    /// for through `__folio_start_writeback` + `folio_end_writeback`. The jbd2
    /// commit's data=ordered writeout (`ext4_normal_submit_inode_data_buffers`,
    /// `can_map = 0`) does that to delalloc folios: `writeback_dirty_folio`
    /// (the redirty), `sb_mark_inode_writeback`, `sb_clear_inode_writeback`,
    /// `ext4_writepages_result … pages_skipped=1`, no bio. The replay opens an
    /// io_end at the mark and never closes it, so the inode's eviction at
    /// umount is reported as `evict-with-pending-io`.
    static let jbd2NoSubmitCycle = "evict-with-pending-io: the replay opens an io_end for the jbd2 commit's "
        + "no-bio writeback cycle (sb_mark_inode_writeback, sb_clear_inode_writeback, pages_skipped) and never closes it"

    /// The last bio of a writeback (a 2-block extent of its own) is
    /// back-merged (`block_bio_backmerge`) into the request holding the tail
    /// of the previous bio; that request's `block_rq_complete` ends both, and
    /// one worker run converts both io_ends. The replay binds the request to
    /// the earlier io_end only, so the merged bio's io_end stays submitted,
    /// its conversion diverges ("the worker did not take this io_end from the
    /// list") and the eviction at umount (and the rm after the remount) is
    /// reported as `evict-with-pending-io`.
    static let mergedBioCompletion = "evict-with-pending-io: a back-merged bio's completion (block_rq_complete of "
        + "the request it joined) is not bound to its io_end, which stays submitted until the inode is evicted"

    /// fsx's fdatasync writes folios 53..64 (overwrite) and 65..72 (new,
    /// unwritten): the replay counts the folio it inferred at
    /// `sb_mark_inode_writeback` again when binding the first bio (13 folios
    /// for 12 blocks), so block 65 misses its conversion; the jbd2 commit's
    /// one-folio overwrite bio (no mapping events; jbd2 then waits on folio
    /// 39, writeback ends in irq at the completion) is bound to the model's
    /// leftover dirty folio 65 with an unwritten io_end that is never
    /// converted: `fsync-before-conversion`, `stale-read-before-conversion`
    /// and `truncate-during-conversion` on block 65.
    static let overwriteBioOnLeftoverFolio = "fsync-before-conversion, stale-read-before-conversion, "
        + "truncate-during-conversion: the first bio is bound to one folio too many (the one inferred at "
        + "sb_mark_inode_writeback is counted twice), and a jbd2 overwrite bio is then bound to the leftover "
        + "folio with an unwritten io_end that never converts"

    @Test(arguments: traces)
    func noViolation(_ name: String) throws {
        let report = try Replay.check(TraceFile.open(path: "\(Self.folder)/\(name)"))
        // A real recording of a whole test on the recorded kernel's profile.
        #expect(report.events > 1_000)
        #expect(report.choice.profile == .ext4_6_x)
        #expect(report.lostEvents == 0)
        #expect(report.damagedEvents == 0)
        let violated = report.findings.filter { $0.verdict == .violated }
            .map { "\($0.rule) \($0.dev):\($0.ino) \($0.lblk)+\($0.len) at event \($0.eventIndex)" }
        if let reason = Self.knownIssues[name] {
            withKnownIssue(Comment(rawValue: reason)) {
                #expect(violated.isEmpty, "\(violated)")
            }
        } else {
            #expect(violated.isEmpty, "\(violated)")
        }
    }

    /// The folder holds traces, and every known issue names one of them: an
    /// entry left behind by a renamed or removed trace would excuse nothing.
    @Test func knownIssuesNameShippedTraces() {
        #expect(Self.traces.count >= 10)
        #expect(Set(Self.knownIssues.keys).isSubset(of: Set(Self.traces)),
                "\(Set(Self.knownIssues.keys).subtracting(Self.traces))")
    }
}
