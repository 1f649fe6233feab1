import Foundation
import MutationCorpus
import Replay
import Testing
import TraceIO
import WritebackModel

/// ≤3.7 fsync, truncate and punch hole convert the io_ends on the inode's
/// list in the caller (`ext4_flush_completed_IO`): a CONVERT by a task
/// inside one of them is that flush (`ProfileReplay.flushConverts`), not
/// 6.x's inline conversion. The truncate (c) case of the corpus shows it
/// on a real recording: after its punch hole or truncate the deciding task's
/// next fdatasync converts the queued io_end itself.
@Suite struct FlushConvertsTests {
    static let library = CorpusLibrary(root: Corpus.tracesRoot, skipping: ["kernels"])
    /// Small text recordings, tried in turn: the first that hosts the case is used.
    static let traces = ["fsync_unwritten.txt", "reclaim_reread.txt", "punch_hole.txt", "punch_after_writeback.txt"]

    static func firstBuilt(_ rule: InjectedRule) throws -> MutationCase? {
        for trace in traces {
            let id = CaseID(trace: trace, rule: rule, ordering: .happensBefore, clock: .recorded)
            if case .built(let c) = try library.make(id) { return c }
        }
        return nil
    }

    static func replay(_ records: [TraceRecord], _ c: MutationCase, _ profile: KernelProfile) -> CheckReport {
        Replay.check(records: records, metadata: c.bug.metadata, trace: c.id.trace,
                     options: ReplayOptions(profile: profile, stableWrites: c.bug.stableWrites))
    }

    /// The divergences the replay records at the caller's CONVERT.
    static func atConvert(_ r: CheckReport, _ index: Int) -> [Divergence] {
        r.divergences.filter { $0.eventIndex == index }
    }

    @Test func callerConvertIsTheFlush() throws {
        let rule = InjectedRule.truncateDuringConversion
        let c = try #require(try Self.firstBuilt(rule), "none of \(Self.traces) hosts \(rule) (c)")
        let convert = c.expected.second
        #expect(convert.name == "ext4_ext_map_blocks_enter")
        // ≤3.7 (V4 cleanup): the fdatasync's CONVERT is its flush; the bug is found.
        let old = Self.replay(c.bug.records, c, .ext4_3_7_v4)
        #expect(Self.atConvert(old, convert.index).isEmpty, "\(Self.atConvert(old, convert.index).map(\.reason))")
        #expect(old.findings.contains { $0.rule.rawValue == rule.rawValue && $0.ino == c.expected.ino })
        // 6.x converts in the caller only at the submitter's last put: the
        // same CONVERT is no flush there.
        let new = Self.replay(c.bug.records, c, .ext4_6_x)
        #expect(!Self.atConvert(new, convert.index).isEmpty)
    }

    /// The same CONVERT by a task that is not inside fsync, truncate or
    /// punch hole (its fdatasync's entry taken out) is no flush.
    @Test func convertOutsideAnOperationIsNoFlush() throws {
        let c = try #require(try Self.firstBuilt(.truncateDuringConversion), "none of \(Self.traces) hosts truncate-during-conversion (c)")
        let convert = c.expected.second
        guard case .event(let converting) = c.bug.records[convert.index] else {
            Issue.record("record \(convert.index) is not an event")
            return
        }
        // The converting task's entry into its second fdatasync: the last
        // sys_enter_fdatasync / ext4_sync_file_enter of its pid before the CONVERT.
        var dropped: Set<Int> = []
        for name in ["sys_enter_fdatasync", "ext4_sync_file_enter"] {
            let at = c.bug.records[..<convert.index].lastIndex {
                if case .event(let e) = $0 { return e.pid == converting.pid && e.name == name }
                return false
            }
            dropped.insert(try #require(at, "no \(name) of pid \(converting.pid) before the CONVERT"))
        }
        let records = c.bug.records.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
        let index = convert.index - dropped.count
        let report = Self.replay(records, c, .ext4_3_7_v4)
        #expect(!Self.atConvert(report, index).isEmpty)
    }
}
