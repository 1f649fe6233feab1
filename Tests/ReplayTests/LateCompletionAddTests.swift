import Foundation
import Testing
import TraceIO
@testable import Replay

/// `block_rq_complete` is printed at the start of `blk_update_request`; the
/// io_end joins the inode's conversion list later, in the bio's
/// `ext4_end_bio` (`ext4_add_complete_io`, shown by its
/// `workqueue_queue_work` when the list was empty). In 6.1's
/// `fsync_unwritten` the softirq on CPU 0 printed the completion of block
/// 546's request, then nothing for 22 ms; two conversion runs on CPU 1 took
/// their lists in between, and CPU 0's next event is the
/// `workqueue_queue_work` of that add: the io_end was left for a third run,
/// which converts it. The replay keeps such an add unconfirmed until the
/// completion's CPU shows its next event (`ProfileReplay.takeList`).
@Suite struct LateCompletionAddTests {
    static let recording = "\(LabVerdictTests.folder)/6.1.0-50-amd64/default/fsync_unwritten.dat"

    @Test func theRunsInTheGapLeaveTheLateAdd() throws {
        let report = try Replay.check(TraceFile.open(path: Self.recording))
        #expect(report.choice.profile == .ext4_5_10)
        // Nothing diverges around the late add: the runs in the gap end
        // what they took, the third run's CONVERT finds its work queued.
        let gap = try lateAddWindow()
        #expect(!report.divergences.contains { gap.contains($0.eventIndex) }, "\(report.divergences.map(LabVerdictTests.divergenceClass))")
        #expect(!report.divergences.contains { $0.reason.contains("is not queued") })
        #expect(report.divergenceCount == 0)
        #expect(report.findings.isEmpty)
    }

    /// From the completion of block 546's request (sector 315664) to the
    /// CONVERT of block 546 by the run after the gap.
    func lateAddWindow() throws -> ClosedRange<Int> {
        var completion: Int? = nil, convert: Int? = nil, index = 0
        for case .event(let event) in try records(Self.recording).1 {
            defer { index += 1 }
            if completion == nil, event.name == "block_rq_complete", event.fields.uint("sector") == 315664 { completion = index }
            // CONVERT (0x10) among the mapping flags: the conversion of block 546.
            if completion != nil, convert == nil, event.name == "ext4_ext_map_blocks_enter", event.fields.uint("lblk") == 546,
               (event.fields.uint("flags") ?? 0) & 0x10 != 0 { convert = index }
        }
        return try #require(completion)...(try #require(convert))
    }

    /// Negative: an fdatasync planted on CPU 1 right after the first run in
    /// the gap ended (nothing waits in it: the bug of seed 002) returns
    /// while block 546 is on disk behind its unwritten extent. The replay
    /// must find it: block 546's io_end was not converted by that run.
    @Test func anFsyncInTheGapIsStillCaught() throws {
        let twin = try LabProfileTests.textTwin(Self.recording)
        defer { try? FileManager.default.removeItem(atPath: twin) }
        var lines = try String(contentsOfFile: twin, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The end of the conversion run between the completion of block 546
        // (sector 315664) and CPU 0's next event.
        let completion = try #require(lines.firstIndex { $0.contains("block_rq_complete:") && $0.contains(" 315664 + 8 ") })
        let runEnd = try #require(lines[completion...].firstIndex { $0.contains("workqueue_execute_end:") && $0.contains("ext4_end_io_rsv_work") })
        try #require(!lines[(completion + 1)..<runEnd].contains { $0.contains("[000]") }, "CPU 0 shows an event before the run ended")
        let t = try #require(lines[runEnd].firstMatch(of: /\] +(\d+\.\d+):/).flatMap { Double($0.1) })
        func at(_ dt: Double, _ text: String) -> String {
            "wbreplay:         xfs_io-4242  [001] " + String(format: "%.9f", t + dt) + ": " + text
        }
        lines.insert(contentsOf: [at(0.000_000_5, "ext4_sync_file_enter: dev 7,0 ino 12 parent 2 datasync 1 "),
                                  at(0.000_001, "ext4_sync_file_exit:  dev 7,0 ino 12 ret 0")], at: runEnd + 1)
        let planted = twin + ".planted.txt"
        defer { try? FileManager.default.removeItem(atPath: planted) }
        try lines.joined(separator: "\n").write(toFile: planted, atomically: true, encoding: .utf8)
        let report = try Replay.check(TraceFile.open(path: planted))
        let found = report.findings.filter { $0.rule == .fsyncBeforeConversion && $0.verdict == .violated }
        #expect(found.contains { $0.ino == 12 && $0.lblk <= 546 && 546 < $0.lblk + $0.len },
                "\(report.findings.map { "\($0.rule) \($0.verdict) \($0.lblk)+\($0.len)" })")
    }
}
