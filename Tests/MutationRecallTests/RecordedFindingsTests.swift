import Foundation
import MutationCorpus
import Replay
import Testing
import TraceIO
import WritebackModel

/// A twin is judged on what its edit added (`RecordedFindings`,
/// `RecallJudge.twinProblems`), on real recordings: 6.1 converts an io_end
/// whose write failed (its dm-fdatasync recording reports it); 7.3 leaves
/// the failed blocks unwritten (its null_blk recording, with the same EIO,
/// has no bug).
@Suite struct RecordedFindingsTests {
    static let library = CorpusLibrary(root: Corpus.tracesRoot + "/kernels/6.1.0-50-amd64/eio")
    static let cleanLibrary = CorpusLibrary(root: Corpus.tracesRoot + "/kernels/7.3.4+deb13-amd64/eio")
    static let buggy = "dm-fdatasync.dat"
    static let clean = "nullb-fsync.dat"

    static func report(_ trace: String, in library: CorpusLibrary = library) throws -> CheckReport {
        let source = try library.index(trace).source
        return Replay.check(records: source.records, metadata: source.metadata, trace: trace)
    }

    @Test func recordingsOwnBugIsItsAllowance() throws {
        let keys = try RecordedFindings().keys(Self.library, trace: Self.buggy, stableWrites: false)
        let key = try #require(keys.first)
        #expect(keys.count == 1)
        #expect(key.rule == .conversionAfterIOError)
        let report = try Self.report(Self.buggy)
        // The recording itself, as a twin: its own bug is allowed …
        #expect(RecallJudge.twinProblems(report, recorded: keys).isEmpty)
        // … and nothing else: without the allowance it is a problem, and
        // the same rule on other blocks or another inode is not allowed.
        let none = RecallJudge.twinProblems(report, recorded: [])
        #expect(none.count == 1)
        #expect(none.first?.contains("1 violated") == true)
        #expect(none.first?.contains("conversion-after-io-error") == true)
        var otherBlocks = key
        otherBlocks.lblk += key.len
        #expect(!RecallJudge.twinProblems(report, recorded: [otherBlocks]).isEmpty)
        var otherInode = key
        otherInode.ino += 1
        #expect(!RecallJudge.twinProblems(report, recorded: [otherInode]).isEmpty)
    }

    /// A clean recording allows nothing; a twin need not keep the
    /// recording's findings (an edit may end the recording early).
    @Test func cleanRecordingAllowsNothing() throws {
        let recorded = RecordedFindings()
        #expect(try recorded.keys(Self.cleanLibrary, trace: Self.clean, stableWrites: false).isEmpty)
        let buggyKeys = try recorded.keys(Self.library, trace: Self.buggy, stableWrites: false)
        #expect(RecallJudge.twinProblems(try Self.report(Self.clean, in: Self.cleanLibrary), recorded: buggyKeys).isEmpty)
        // Asked again (as every case of the trace does), the answer is the same.
        #expect(try recorded.keys(Self.library, trace: Self.buggy, stableWrites: false) == buggyKeys)
    }
}
