import Foundation
import Testing
import TraceIO
@testable import Replay

/// xfstests runs recorded with `wbreplay record` on this 6.18 kernel
/// (Tools/fstests/run.sh, traces/fstests/README.md): traces nobody tuned the
/// model for. The kernel was healthy and each test passed, so `check` must
/// find nothing on any of them: no violated and no inconclusive finding.
@Suite struct FstestsTraceTests {
    static let folder = Paths.trace("fstests")

    static var traces: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".dat") }.sorted()
    }

    @Test(arguments: traces)
    func noFinding(_ name: String) throws {
        let report = try Replay.check(TraceFile.open(path: "\(Self.folder)/\(name)"))
        // A real recording of a whole test on the recorded kernel's profile.
        #expect(report.events > 1_000)
        #expect(report.choice.profile == .ext4_6_x)
        #expect(report.lostEvents == 0)
        #expect(report.damagedEvents == 0)
        let found = report.findings.map { "\($0.verdict) \($0.rule) \($0.dev):\($0.ino) \($0.lblk)+\($0.len) at event \($0.eventIndex)" }
        #expect(found.isEmpty, "\(found)")
    }

    /// generic/465 mixes AIO direct I/O and buffered writeback on one file:
    /// direct-I/O completions (which queue no ext4 work), the work items of
    /// the machine's other ext4 file system queued in the same irq, and
    /// completions that land between a conversion run's start and its take
    /// of the list. The replay follows the kernel through all of them.
    @Test func conversionWorkFollowsTheKernelUnderMixedIO() throws {
        let report = try Replay.check(TraceFile.open(path: "\(Self.folder)/generic-465.dat"))
        #expect(report.divergenceCount == 0, "\(report.divergences.prefix(5).map { "\($0.eventIndex) \($0.reason)" })")
    }

    /// generic/263 (fsx) writes through mmap into folios whose blocks are
    /// mapped, next to holes that writeback allocates, and punches holes that
    /// begin and end inside folios. One bio carries the mapped folios and
    /// the new extent behind them (physically contiguous): the graph names its
    /// blocks back from the extent (bound from the pass's dirty folios, it
    /// took the next passes' folios: 29 divergences). A partial punch keeps
    /// its end folios cached and their blocks allocated (dropped, they came
    /// back under writeback: 5 more).
    @Test func fsxMmapWritesAndPartialPunchesFollowTheKernel() throws {
        let report = try Replay.check(TraceFile.open(path: "\(Self.folder)/generic-263.dat"))
        #expect(report.divergenceCount == 0, "\(report.divergences.prefix(8).map { "\($0.eventIndex) \($0.reason)" })")
    }

    /// The folder holds the traces (an empty folder would test nothing).
    @Test func theBedShipsTraces() {
        #expect(Self.traces.count >= 10)
    }
}
