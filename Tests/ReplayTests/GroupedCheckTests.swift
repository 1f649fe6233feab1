import Foundation
import Testing
import TraceIO
@testable import Replay
@testable import WritebackModel

/// `check` of a trace that names no kernel replays the profiles in groups
/// (`Replay.runGroupedCheck`): its report must be exactly the one of every
/// profile replayed on its own in one dispatcher, with the same early
/// pruning — findings, their orderings and witnesses, the profile chosen
/// and why — on traces where the profiles part early, late or never, and
/// where rules are broken (I/O errors on every lab kernel, the bug fixtures).
@Suite struct GroupedCheckTests {
    /// Every lab kernel's I/O-error runs, the fstests traces, the top-level
    /// traces (trace.dat and text) and the bug fixtures.
    static var traces: [String] {
        let lab = LabVerdictTests.recordings.filter { $0.contains("/eio/") }
        let fstests = ((try? FileManager.default.contentsOfDirectory(atPath: Paths.trace("fstests"))) ?? [])
            .filter { $0.hasSuffix(".dat") }.sorted()
        let fixtures = ((try? FileManager.default.contentsOfDirectory(atPath: Paths.fixture(""))) ?? [])
            .filter { $0.hasSuffix(".txt") }.sorted()
        return lab.map { Paths.trace("kernels/\($0)") } + fstests.map { Paths.trace("fstests/\($0)") }
            + Paths.realTraces.map { Paths.trace($0) } + fixtures.map { Paths.fixture($0) }
    }

    /// Traces on which some profile's replay finds broken rules: the bug
    /// fixtures, and the I/O-error runs of the oldest and the newest
    /// Debian kernel of the lab.
    static var tracesWithFindings: [String] {
        traces.filter { $0.hasSuffix("_bug.txt") || ($0.contains("/eio/") && ($0.contains("/5.10.") || $0.contains("/7.3."))) }
    }

    /// What `check` reports, less what names the file.
    struct Outcome: Equatable {
        var choice: ProfileChoice
        var events: Int
        var findings: [Finding]
        var divergences: [Divergence]
        var divergenceCount: Int

        init(_ d: ReplayDispatcher, _ reader: any TraceReader) {
            let r = Replay.finish(d, trace: "", given: nil, options: ReplayOptions(), metadata: reader.metadata)
            choice = r.choice
            events = r.events
            findings = r.findings
            divergences = r.divergences
            divergenceCount = r.divergenceCount
        }
    }

    static func stable(_ reader: any TraceReader) -> Bool { reader.metadata.recording["stable_writes"] == "1" }

    /// Every profile replayed on its own, in one dispatcher (`check` before groups).
    static func alone(_ reader: any TraceReader, pruneEvery: Int?) throws -> ReplayDispatcher {
        try Replay.run(reader, replays: KernelProfile.newestFirst.map {
            ProfileReplay(profile: $0, stableWrites: stable(reader), historyInode: nil)
        }, pruneEvery: pruneEvery)
    }

    static func grouped(_ reader: any TraceReader, pruneEvery: Int, batch: Int = Replay.splitBatch,
                        checkpointBatches: Int = ProfileGroups.checkpointBatches) throws -> ReplayDispatcher {
        try Replay.runGroupedCheck(reader, profiles: KernelProfile.newestFirst, stableWrites: stable(reader),
                                   historyInode: nil, crossCPUBound: 100_000, pruneEvery: pruneEvery,
                                   batch: batch, checkpointBatches: checkpointBatches).dispatcher
    }

    @Test(arguments: traces)
    func groupsReportWhatEachProfileAloneReports(_ path: String) throws {
        let a = try TraceFile.open(path: path), b = try TraceFile.open(path: path)
        let grouped = try Self.grouped(a, pruneEvery: Replay.pruneInterval)
        let alone = try Self.alone(b, pruneEvery: Replay.pruneInterval)
        #expect(grouped.replays.map(\.profile) == alone.replays.map(\.profile))
        #expect(Outcome(grouped, a) == Outcome(alone, b))
    }

    /// Pruning often, in small batches with frequent checkpoints: profiles
    /// pruned mid-batch and classes that leave their group after it judged
    /// findings since its checkpoint (`JudgementTape`) still give each
    /// profile's own report.
    @Test(arguments: tracesWithFindings)
    func smallBatchesAndEarlyPruningChangeNothing(_ path: String) throws {
        for (batch, checkpoints, prune) in [(1, 2, 50), (7, 3, 500), (16, 1 << 30, 1 << 30)] {
            let a = try TraceFile.open(path: path), b = try TraceFile.open(path: path)
            let grouped = try Self.grouped(a, pruneEvery: prune, batch: batch, checkpointBatches: checkpoints)
            let alone = try Self.alone(b, pruneEvery: prune)
            #expect(Outcome(grouped, a) == Outcome(alone, b), "batch \(batch), checkpoint every \(checkpoints), prune every \(prune)")
        }
    }

    /// A text trace names no kernel: `check` replays the candidates in
    /// groups, and on a healthy recent kernel's trace the five newest
    /// profiles (3.11 too: the trace shows dioread_nolock before a step
    /// needs the mount's default) stay one replay to the end.
    @Test func aTextTraceIsCheckedInGroups() throws {
        let path = Paths.trace("fsync_unwritten.txt")
        let reader = try TraceFile.open(path: path)
        #expect(reader.metadata.kernelRelease == nil)
        let report = try Replay.check(reader)
        #expect(report.choice.profile == .ext4_6_x)
        #expect(report.choice.divergences.keys.count == KernelProfile.allCases.count)
        let again = try TraceFile.open(path: path)
        let (_, groups, _) = try Replay.runGroupedCheck(
            again, profiles: KernelProfile.newestFirst, stableWrites: false, historyInode: nil, crossCPUBound: 100_000,
            pruneEvery: Replay.pruneInterval)
        #expect(groups.contains([.ext4_6_x, .ext4_6_15, .ext4_6_12, .ext4_5_10, .ext4_3_11]))
        #expect(groups.count < KernelProfile.allCases.count)
    }

    /// The tape hands a leaving class the judgements its group made before
    /// the event it left at, and none from that event on; a tape that is not
    /// on records nothing.
    @Test func aTapeGivesBackWhatItRecorded() throws {
        let v = RuleViolation(rule: .conversionAfterIOError, dev: DeviceNumber(major: 7, minor: 0), inode: nil, range: nil,
                              folio: nil, transition: .ext4ReleaseIoEnd(IoEndRef(inode: InodeRef(dev: DeviceNumber(major: 7, minor: 0), ino: 12), serial: 0)),
                              detail: "")
        let at = Stamp(index: 10, timestamp: 1, cpu: 0, pid: 1, name: .none)
        var judged = PendingFinding(violation: v, at: at, trail: [], obligations: [])
        judged.judged = true
        judged.causes = [TrailEntry(stamp: at, role: "cause")]
        var group = JudgementTape()
        group.isOn = true
        group.record(judged, at: 12)
        #expect(group.recorded.count == 1)
        var leaving = JudgementTape()
        leaving.replay(group.recorded, before: 20)
        // Members that come to agree in every trait stop recording, not taking.
        leaving.stopRecording()
        let unjudged = PendingFinding(violation: v, at: at, trail: [], obligations: [])
        #expect(leaving.taken(unjudged, at: 12)?.causes == judged.causes)
        #expect(leaving.retaken == 1)
        // From the event the class left at, it judges its own.
        leaving.replay(group.recorded, before: 12)
        #expect(leaving.taken(unjudged, at: 12) == nil)
        var off = JudgementTape()
        off.record(judged, at: 12)
        #expect(off.recorded.isEmpty)
    }
}

extension GroupedCheckTests {
    /// The freeze bug fixture (192 findings, judged as its events come),
    /// then the I/O-error fixture shifted after it, where the newest
    /// profiles' treatment of a FAILED io_end parts them: the classes that
    /// leave take the group's judgements of the freeze findings again
    /// (`JudgementTape`), and every profile's report is its own.
    @Test func classesLeavingAfterJudgementsTakeThemAgain() throws {
        let first = try String(contentsOfFile: Paths.fixture("freeze_write_bug.txt"), encoding: .utf8)
        let second = try String(contentsOfFile: Paths.fixture("io_error_conversion_bug.txt"), encoding: .utf8)
        let shifted = second.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("#") }.map { line in
            // 10 000 s later: after the first fixture's last event.
            guard let m = line.firstMatch(of: #/(\d+)\.(\d{6}): /#), let s = Int(m.1) else { return String(line) }
            return line.replacingCharacters(in: m.range, with: "\(s + 10_000).\(m.2): ")
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("grouped-check-\(getpid()).txt").path
        try (first + shifted.joined(separator: "\n")).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        for checkpoints in [ProfileGroups.checkpointBatches, 1 << 30] {
            let a = try TraceFile.open(path: path), b = try TraceFile.open(path: path)
            let (grouped, _, retaken) = try Replay.runGroupedCheck(
                a, profiles: KernelProfile.newestFirst, stableWrites: false, historyInode: nil, crossCPUBound: 100_000,
                pruneEvery: Replay.pruneInterval, batch: 64, checkpointBatches: checkpoints)
            let alone = try Self.alone(b, pruneEvery: Replay.pruneInterval)
            #expect(retaken > 0, "checkpoint every \(checkpoints) batches")
            #expect(Outcome(grouped, a) == Outcome(alone, b))
            #expect(Outcome(grouped, a).findings.count >= 192)
        }
    }
}
