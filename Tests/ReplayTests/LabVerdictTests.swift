import Foundation
import Testing
import TraceIO
@testable import Replay

/// `check` on every recording of the kernel lab (traces/kernels/: Debian's
/// 5.10, 6.1, 6.12 and 7.3 under qemu, and this machine's 6.18) against what
/// each kernel did:
/// - the workloads run on healthy kernels: no violated finding;
/// - the text twin of every recording gives the same verdicts;
/// - the I/O-error recipes (eio/: dm `error` or null_blk under a write into
///   a fallocated file, then fsync, fdatasync or the flusher) come with the
///   kernel's own `filefrag -v` before and after (`*.evidence`). Where the
///   write failed (EIO) and the extent lost its `unwritten` flag, the kernel
///   converted blocks whose data never reached the disk:
///   conversion-after-io-error must be violated on exactly those blocks
///   (5.10, 6.1 and 6.12 on dm, where the submitter's inline
///   `ext4_put_io_end` converts); elsewhere it must not be (7.3; 6.12's
///   null_blk run, where the worker skips the FAILED io_end).
@Suite struct LabVerdictTests {
    static let folder = Paths.trace("kernels")

    static var recordings: [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".dat") }.sorted()
    }

    /// The blocks the kernel converted although their write failed, from the
    /// recording's evidence: nil when the write did not fail or nothing lost
    /// its unwritten flag.
    static func convertedAfterError(_ recording: String) throws -> ClosedRange<UInt64>? {
        let path = "\(folder)/\(recording.dropLast(4)).evidence"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard text.contains("errno=EIO") else { return nil }
        var inAfter = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("#") { inAfter = line.hasPrefix("# filefrag -v after the EIO"); continue }
            // "   0:        0..      63:       2065..      2128:     64:   flags"
            let cells = line.split(separator: ":", omittingEmptySubsequences: false)
            guard inAfter, cells.count >= 5, Int(cells[0].trimmingCharacters(in: .whitespaces)) != nil else { continue }
            let logical = cells[1].split(separator: ".").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            guard logical.count == 2, !cells[cells.count - 1].contains("unwritten") else { continue }
            return logical[0]...logical[1]
        }
        return nil
    }

    @Test func theLabShipsRecordingsAndEvidence() throws {
        #expect(Self.recordings.count >= 50)
        let converting = try Self.recordings.filter { try Self.convertedAfterError($0) != nil }
        // dm-error under fsync, fdatasync and the flusher on 5.10, 6.1 and
        // 6.12; null_blk's bad blocks under fsync on 5.10 and 6.1.
        #expect(converting.count >= 11, "\(converting)")
        #expect(Self.recordings.filter { $0.contains("/eio/") }.count > converting.count)
    }

    /// A lab recording replays under its kernel's profile without
    /// divergence: 6.1's late `ext4_add_complete_io`
    /// (`LateCompletionAddTests`), 6.1's io_end of two bios
    /// (`IoEndOfManyBiosTests`) and 6.18's write_begin that waits after its
    /// tracepoint (`WriteBeginWaitTests`) included. A divergence is shown
    /// by its class (numbers folded).
    static func divergenceClass(_ d: Divergence) -> String {
        "\(d.kernelFunction): " + d.reason.replacing(/\d+/, with: "N")
    }

    @Test(arguments: recordings)
    func verdictMatchesWhatTheKernelDid(_ recording: String) throws {
        let report = try Replay.check(TraceFile.open(path: "\(Self.folder)/\(recording)"))
        let release = String(recording.prefix { $0 != "/" })
        // The kernel's own profile, by the recorded release.
        #expect(report.choice.profile == LabProfileTests.expected[release], "\(recording)")
        let classes = Set(report.divergences.map(Self.divergenceClass))
        #expect(classes.isEmpty, "\(recording): \(classes.sorted())")
        // The text twin (`trace-cmd report -t`: no release, best fit) reaches the same verdicts.
        let twin = try LabProfileTests.textTwin("\(Self.folder)/\(recording)")
        defer { try? FileManager.default.removeItem(atPath: twin) }
        let twinReader = try TraceFile.open(path: twin)
        let text = try Replay.check(twinReader)
        // The recorder's markers carry the release into the text: the twin replays under its kernel's profile.
        #expect(twinReader.metadata.kernelRelease == release, "\(recording)")
        #expect(LabProfileTests.verdicts(text) == LabProfileTests.verdicts(report), "\(recording): text twin under \(text.choice.profile)")
        if recording.contains("/eio/") {
            // The I/O-error runs fit their kernel without divergence; so does the twin.
            #expect(text.divergenceCount == 0, "\(recording): text twin under \(text.choice.profile)")
        }
        let violated = report.findings.filter { $0.verdict == .violated }
        guard let blocks = try Self.convertedAfterError(recording) else {
            #expect(violated.isEmpty, "\(recording): \(violated.map { "\($0.rule) at event \($0.eventIndex)" })")
            return
        }
        #expect(violated.map(\.rule) == [.conversionAfterIOError], "\(recording)")
        let finding = try #require(violated.first)
        #expect(finding.lblk == blocks.lowerBound && finding.lblk + finding.len - 1 == blocks.upperBound,
                "\(recording): blocks \(finding.lblk)+\(finding.len), filefrag \(blocks)")
        // Decided by the failed completion, then the trace's own CONVERT.
        #expect(finding.deciding.contains { $0.after?.name == "ext4_ext_map_blocks_enter" }, "\(recording)")
    }
}
