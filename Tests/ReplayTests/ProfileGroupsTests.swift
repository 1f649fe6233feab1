import Foundation
import Testing
import TraceIO
@testable import Replay
@testable import WritebackModel

/// `diff` replays the profiles that read the same answer from every trait
/// their events ask as one replay (`ProfileGroups`): each profile's result
/// must be what a replay of that profile alone gives, on the traces where
/// the profiles part late (I/O errors, punches on every lab kernel), early
/// (old profiles on new kernels) or never (the newest on a healthy trace).
@Suite struct ProfileGroupsTests {
    /// Every lab kernel's I/O-error runs and fsync_unwritten recordings,
    /// the fstests traces, the top-level traces and the bug fixtures.
    static var traces: [String] {
        let lab = LabVerdictTests.recordings.filter { $0.contains("/eio/") || $0.hasSuffix("/fsync_unwritten.dat") }
        let fstests = ((try? FileManager.default.contentsOfDirectory(atPath: Paths.trace("fstests"))) ?? [])
            .filter { $0.hasSuffix(".dat") }.sorted()
        let fixtures = ((try? FileManager.default.contentsOfDirectory(atPath: Paths.fixture(""))) ?? [])
            .filter { $0.hasSuffix(".txt") }.sorted()
        return lab.map { Paths.trace("kernels/\($0)") } + fstests.map { Paths.trace("fstests/\($0)") }
            + Paths.realTraces.filter { $0.hasSuffix(".dat") }.map { Paths.trace($0) } + fixtures.map { Paths.fixture($0) }
    }

    /// What `diff` reports of a replay.
    struct Outcome: Equatable, CustomStringConvertible {
        var profile: KernelProfile
        var conformance: ObjectConformance
        var divergenceCount: Int
        var divergences: [Divergence]
        var first: [Divergence]

        init(_ r: ProfileReplay) {
            profile = r.profile
            conformance = r.conformance
            divergenceCount = r.divergenceCount
            divergences = r.divergences
            first = ProfileDiff.inOrder(r.firstDivergence)
        }

        var description: String { "\(profile): \(divergenceCount) divergence(s)" }
    }

    static func open(_ path: String) throws -> any TraceReader { try TraceFile.open(path: path) }

    static func stable(_ reader: any TraceReader) -> Bool { reader.metadata.recording["stable_writes"] == "1" }

    @Test(arguments: traces)
    func groupsGiveEachProfileItsOwnReplay(_ path: String) throws {
        let profiles = KernelProfile.newestFirst
        let reader = try Self.open(path)
        let (grouped, groups) = try Replay.runGrouped(reader, profiles: profiles, stableWrites: Self.stable(reader))
        let again = try Self.open(path)
        let alone = try Replay.runSplit(again, replays: profiles.map {
            ProfileReplay(profile: $0, stableWrites: Self.stable(again), historyInode: nil)
        })
        #expect(grouped.replays.map(Outcome.init) == alone.replays.map(Outcome.init))
        #expect(grouped.events == alone.events)
        // Each profile in exactly one group.
        #expect(groups.flatMap { $0 }.sorted { $0.rawValue < $1.rawValue } == profiles.sorted { $0.rawValue < $1.rawValue })
    }

    /// A healthy trace of a recent kernel: the four newest profiles differ
    /// only where an I/O error, a punch or data_err=abort is met, and 3.11
    /// from them only in its default mount options, which the trace shows
    /// (an unwritten mapping: dioread_nolock) before any step needs them:
    /// the five stay one replay; the older ones part where their io_end
    /// code differs.
    @Test func newestProfilesStayOneReplayOnAHealthyTrace() throws {
        let reader = try TraceFile.open(path: Paths.trace("fsync_unwritten.dat"))
        let (_, groups) = try Replay.runGrouped(reader, profiles: KernelProfile.newestFirst, stableWrites: false)
        #expect(groups.contains([.ext4_6_x, .ext4_6_15, .ext4_6_12, .ext4_5_10, .ext4_3_11]))
        #expect(groups.count < KernelProfile.allCases.count)
        #expect(!groups.contains { $0.contains(.ext4_3_11) && $0.contains(.ext4_3_7) })
    }

    /// A mount with dioread_lock: writeback maps written blocks, and the
    /// trace shows each mapping before the folio is written, so no step
    /// needs the mount's default, in which 3.11 and the newer profiles
    /// differ: the five stay one replay, each with its own replay's result
    /// (`DioreadNolockDefaultTests`: where a step needs it, it is read).
    @Test func aDioreadLockMountKeepsTheNewestOneReplay() throws {
        let path = Paths.trace("diff/diff_dioread_lock.dat")
        let profiles = KernelProfile.newestFirst
        let (grouped, groups) = try Replay.runGrouped(Self.open(path), profiles: profiles, stableWrites: false)
        #expect(groups.contains([.ext4_6_x, .ext4_6_15, .ext4_6_12, .ext4_5_10, .ext4_3_11]))
        let alone = try Replay.runSplit(Self.open(path), replays: profiles.map {
            ProfileReplay(profile: $0, stableWrites: false, historyInode: nil)
        })
        #expect(grouped.replays.map(Outcome.init) == alone.replays.map(Outcome.init))
    }

    /// A write that failed under dm-error on 6.12: the worker's and the
    /// submitter's treatment of a FAILED io_end differ between 6.12 and
    /// 6.15, and so do their replays.
    @Test func anIOErrorPartsTheNewestProfiles() throws {
        let path = Paths.trace("kernels/6.12.117+deb13-amd64/eio/dm-fsync.dat")
        let (grouped, groups) = try Replay.runGrouped(TraceFile.open(path: path), profiles: KernelProfile.newestFirst,
                                                      stableWrites: false)
        #expect(!groups.contains { $0.contains(.ext4_6_12) && $0.contains(.ext4_6_15) })
        let count = { (p: KernelProfile) in grouped.replays.first { $0.profile == p }?.divergenceCount }
        #expect(count(.ext4_6_12) == 0)
        #expect(count(.ext4_6_15)! > 0)
    }
}
