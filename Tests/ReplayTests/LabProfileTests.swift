import Foundation
import Testing
import TraceIO
@testable import Replay
@testable import WritebackModel

/// Each lab kernel (traces/kernels/) against its own profile (docs/lab.md,
/// docs/model.md): `check` picks the profile by the recorded release; the
/// I/O-error recordings, where the profiles part ways (a FAILED io_end
/// converted or not, by the worker or inline), replay without divergence,
/// and `diff` over every profile names the kernel's own as best or ties it,
/// the newest of the tied chosen. (LabVerdictTests runs `check` on every
/// recording and its text twin: the divergences stay in the documented
/// classes, the twin reaches the same verdicts, without divergence on the
/// I/O-error runs.)
@Suite struct LabProfileTests {
    static let folder = LabVerdictTests.folder

    /// The profile each lab kernel's folder (its `uname -r`) maps to.
    static let expected: [String: KernelProfile] = [
        "5.10.0-32-amd64": .ext4_5_10, "6.1.0-50-amd64": .ext4_5_10, "6.12.117+deb13-amd64": .ext4_6_12,
        "6.18.44-fc-v1147": .ext4_6_x, "7.3.4+deb13-amd64": .ext4_6_x,
    ]

    static func release(_ recording: String) -> String { String(recording.prefix { $0 != "/" }) }

    static var ioErrorRecordings: [String] { LabVerdictTests.recordings.filter { $0.contains("/eio/") } }

    @Test func everyLabKernelHasItsProfile() throws {
        let releases = Set(LabVerdictTests.recordings.map(Self.release))
        #expect(releases == Set(Self.expected.keys))
        for (release, profile) in Self.expected { #expect(KernelProfile.forRelease(release) == profile, "\(release)") }
        // What the recordings themselves say (trace.dat's uname option).
        for release in releases {
            let first = try #require(LabVerdictTests.recordings.first { Self.release($0) == release })
            let recorded = try TraceFile.open(path: "\(Self.folder)/\(first)").metadata.kernelRelease
            #expect(recorded.flatMap(KernelProfile.forRelease) == Self.expected[release], "\(first): \(recorded ?? "no release")")
        }
        #expect(KernelProfile.forRelease("5.5.19") == .ext4_3_11)
        #expect(KernelProfile.forRelease("6.11.2") == .ext4_5_10)
        #expect(KernelProfile.forRelease("6.16.0") == .ext4_6_x)
        #expect(KernelProfile.forRelease("7.0.1") == .ext4_6_x)
    }

    /// The newest first, as a best fit breaks ties.
    @Test func profilesAreOrderedOldestFirst() {
        let order = KernelProfile.allCases.map(\.generation)
        #expect(order == order.sorted())
        #expect(KernelProfile.newestFirst.first == .ext4_6_x)
    }

    static func verdicts(_ r: CheckReport) -> [String] {
        r.findings.map { "\($0.rule.rawValue) \($0.verdict.rawValue) \($0.ino) \($0.lblk)+\($0.len)" }.sorted()
    }

    @Test(arguments: ioErrorRecordings)
    func ioErrorRecordingFitsItsKernel(_ recording: String) throws {
        let own = try #require(Self.expected[Self.release(recording)])
        let path = "\(Self.folder)/\(recording)"
        let report = try Replay.check(TraceFile.open(path: path))
        #expect(report.choice.profile == own)
        #expect(report.divergenceCount == 0, "\(recording): \(report.divergences.map(LabVerdictTests.divergenceClass))")

        // Its text twin: LabVerdictTests.verdictMatchesWhatTheKernelDid.

        let diff = try ProfileDiff.run(TraceFile.open(path: path))
        let best = try #require(diff.profiles.first { $0.profile == diff.bestProfile })
        let tied = diff.profiles.filter { $0.conformance == best.conformance && $0.divergenceCount == best.divergenceCount }.map(\.profile)
        #expect(tied.contains(own), "\(recording): best \(diff.bestProfile), tied \(tied)")
        #expect(diff.bestProfile == KernelProfile.newestFirst.first { tied.contains($0) })
    }

    /// `trace-cmd report -t` of PATH in a temporary file (the caller removes it).
    static func textTwin(_ path: String) throws -> String {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lab-\(UUID().uuidString).txt").path
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "trace-cmd report -t \"$0\" > \"$1\" 2>/dev/null", path, out]
        try shell.run()
        shell.waitUntilExit()
        try #require(shell.terminationStatus == 0, "trace-cmd report -t \(path) failed (is trace-cmd installed?)")
        return out
    }
}
