import Foundation
import Testing
import TraceIO
@testable import Replay

/// `ext4_da_write_begin` is printed on entry; on a device that requires
/// stable pages the wait for a folio under writeback comes after it
/// (`folio_wait_stable` → `folio_wait_writeback`). The host's 6.18
/// `rename_over_dirty` (stable_writes=1) writes into the new file's folio 0
/// while its bio has completed and its conversion has not run (6.x ends
/// writeback after the conversion): the writer waits, and copies only once
/// the conversion worker ended the writeback. The replay holds the
/// write_begin until the task's next event (`ProfileReplay.taskMoved`).
@Suite struct WriteBeginWaitTests {
    static let recording = "\(LabVerdictTests.folder)/6.18.44-fc-v1147/default/rename_over_dirty.dat"

    @Test func theWriteWaitsAfterItsTracepoint() throws {
        let report = try Replay.check(TraceFile.open(path: Self.recording))
        #expect(report.choice.profile == .ext4_6_x)
        #expect(report.divergenceCount == 0, "\(report.divergences.map(LabVerdictTests.divergenceClass))")
        #expect(report.findings.isEmpty)
    }

    /// Negative: the first writer that waited made not to wait (its
    /// `folio_wait_writeback` dropped, its `ext4_da_write_end` moved right
    /// after its write_begin, 1 µs later): the copy lands while the folio
    /// is under writeback, and unstable-page-write must say so.
    @Test func aWriteThatDoesNotWaitIsCaught() throws {
        let twin = try LabProfileTests.textTwin(Self.recording)
        defer { try? FileManager.default.removeItem(atPath: twin) }
        var lines = try String(contentsOfFile: twin, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func pid(_ l: String) -> Substring? { l.firstMatch(of: /-(\d+) +\[/)?.1 }
        func time(_ l: String) -> Double? { l.firstMatch(of: /\] +(\d+\.\d+):/).flatMap { Double($0.1) } }
        let wait = try #require(lines.firstIndex { $0.contains("folio_wait_writeback:") && $0.contains("ino=13 ") })
        let task = try #require(pid(lines[wait]))
        let begin = try #require(lines[..<wait].lastIndex { $0.contains("ext4_da_write_begin:") && pid($0) == task })
        let end = try #require(lines[(wait + 1)...].firstIndex { pid($0) == task })
        try #require(lines[end].contains("ext4_da_write_end:"))
        let t = try #require(time(lines[begin]))
        let copy = lines[end].replacing(/\] +\d+\.\d+:/, with: "] " + String(format: "%.9f", t + 0.000_001) + ":", maxReplacements: 1)
        lines.remove(at: end)
        lines.remove(at: wait)
        lines.insert(copy, at: begin + 1)
        let planted = twin + ".planted.txt"
        defer { try? FileManager.default.removeItem(atPath: planted) }
        try lines.joined(separator: "\n").write(toFile: planted, atomically: true, encoding: .utf8)
        let report = try Replay.check(TraceFile.open(path: planted))
        let found = report.findings.filter { $0.rule == .unstablePageWrite && $0.verdict == .violated }
        #expect(found.contains { $0.ino == 13 && $0.lblk == 0 }, "\(report.findings.map { "\($0.rule) \($0.verdict) \($0.lblk)" })")
    }
}
