import Foundation
import Testing
import TraceIO
import WritebackModel
@testable import Replay

/// conversion-after-io-error (e856f93e0fb2). Bug trace and twin are made by
/// Fixtures/make_bug_traces.py (`conversion_after_io_error`) from
/// traces/reclaim_reread.txt: the cut runs from the sync's writeback of
/// inode 12 (one 2048-block unwritten io_end) to the end of the conversion
/// worker's run. Both carry the same injected failure: the first request of
/// the io_end's bio completes with -EIO (`block_rq_complete … [-5]`). In the
/// bug trace the worker converts as recorded (kernels before e856f93e0fb2);
/// in the twin the worker's conversion lines (reserved handle, CONVERT,
/// es W) are left out: what 6.15+ do with a FAILED io_end.
@Suite struct ConversionAfterIOErrorTests {
    @Test func bugIsReported() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("io_error_conversion_bug.txt")))
        let f = try #require(report.findings.first { $0.rule == .conversionAfterIOError })
        #expect(f.verdict == .violated)
        #expect(f.dev == DeviceNumber(major: 7, minor: 0))
        #expect(f.ino == 12)
        #expect(f.lblk == 0)
        #expect(f.len == 2048)
        #expect(f.witness.count <= 20)
        #expect(f.witness.contains { $0.name == "block_rq_complete" && $0.role.contains("error -5") })
        #expect(f.witness.last?.name == "ext4_ext_map_blocks_enter")
        #expect(report.findings.count == 1)
        // A profile that converts FAILED io_ends fits without divergence.
        #expect(!KernelTraits(report.choice.profile).skipsConversionOfFailedIO)
        #expect(report.divergenceCount == 0)
    }

    /// Under 6.x (which would not convert) the trace's conversion is a
    /// divergence, and the rule still judges it.
    @Test func bugUnderModernProfile() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("io_error_conversion_bug.txt")),
                                      options: ReplayOptions(profile: .ext4_6_x))
        #expect(report.findings.contains { $0.rule == .conversionAfterIOError && $0.ino == 12 && $0.verdict == .violated })
        #expect(report.divergences.map(\.kernelFunction) == ["ext4_convert_unwritten_io_end_vec"])
    }

    @Test func twinIsClean() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("io_error_conversion_twin.txt")))
        #expect(report.findings.isEmpty)
        #expect(report.divergenceCount == 0)
        #expect(KernelTraits(report.choice.profile).skipsConversionOfFailedIO)
    }

    /// A profile that converts FAILED io_ends diverges on the twin instead
    /// of reporting a conversion the trace does not show.
    @Test func twinUnderOldProfile() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.fixture("io_error_conversion_twin.txt")),
                                      options: ReplayOptions(profile: .ext4_3_11))
        #expect(report.findings.isEmpty)
        #expect(report.divergenceCount == 1)
    }
}
