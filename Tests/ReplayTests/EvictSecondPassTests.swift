import Foundation
import Testing
import TraceIO
@testable import Replay

/// `truncate_inode_pages_final` of an unlinked inode runs in two passes
/// (`truncate_inode_pages_range`, mm/truncate.c): the first drops every
/// folio it can lock and that is not under writeback, the second waits for
/// each remaining folio's writeback, then drops it. The lab's
/// `rename_over_dirty` shows it on 6.1 and 7.3: the rename evicts the old
/// file while its last folio's bio is in flight; the evicting task drops
/// the other folios at once, the completion ends the writeback, and only
/// then does the task drop that folio and free the inode.
@Suite struct EvictSecondPassTests {
    static let recordings = [
        "6.1.0-50-amd64/default/rename_over_dirty.dat",
        "7.3.4+deb13-amd64/default/rename_over_dirty.dat",
    ]

    static let underWriteback = "a folio is under writeback"

    @Test(arguments: recordings)
    func theSecondPassWaitsForTheCompletion(_ recording: String) throws {
        let path = "\(LabVerdictTests.folder)/\(recording)"
        let report = try Replay.check(TraceFile.open(path: path))
        #expect(report.divergenceCount == 0, "\(report.divergences.map(LabVerdictTests.divergenceClass))")
        #expect(report.findings.isEmpty)
    }

    /// Negative: with the completions between the evict and the free taken
    /// out of the text twin, the folio is still under writeback when the
    /// evicting task drops it: the replay must say so, not resync quietly.
    @Test func aFreeBeforeTheCompletionDiverges() throws {
        let twin = try LabProfileTests.textTwin("\(LabVerdictTests.folder)/\(Self.recordings[0])")
        defer { try? FileManager.default.removeItem(atPath: twin) }
        let lines = try String(contentsOfFile: twin, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        // The evict that waits: an unlinked inode's, followed by a completion before its free.
        var kept: [Substring] = []
        var evicting: String?
        var removed = 0
        for line in lines {
            if evicting == nil, line.contains("ext4_evict_inode:"),
               let ino = line.firstMatch(of: /ino (\d+) nlink 0/)?.1 {
                evicting = String(ino)
            } else if let ino = evicting {
                if line.contains("ext4_free_inode:"), line.contains(" ino \(ino) mode ") { evicting = nil }
                if line.contains("block_rq_complete:") || line.contains("sb_clear_inode_writeback:") {
                    removed += 1
                    continue
                }
            }
            kept.append(line)
        }
        try #require(removed > 0, "the recording has no completion between an evict and its free")
        let cut = twin + ".cut.txt"
        defer { try? FileManager.default.removeItem(atPath: cut) }
        try kept.joined(separator: "\n").write(toFile: cut, atomically: true, encoding: .utf8)
        let report = try Replay.check(TraceFile.open(path: cut))
        let classes = report.divergences.map(LabVerdictTests.divergenceClass)
        #expect(classes.contains { $0.hasPrefix("truncate_inode_pages_final:") && $0.hasSuffix(Self.underWriteback) },
                "\(classes)")
    }
}
