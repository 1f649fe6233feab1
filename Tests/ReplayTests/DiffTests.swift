import Foundation
import Testing
import TraceIO
import WritebackModel
@testable import Replay

/// Issue 6: `diff` against the profiles and between two traces.
@Suite struct ProfileDiffTests {
    /// Real 6.18 traces with buffered writes into unwritten extents.
    static let conversionTraces = ["fsync_unwritten.dat", "punch_hole.dat", "reclaim_reread.dat",
                                   "rename_over_dirty.dat", "mmap_during_writeback.dat", "diff/diff_default_a.dat"]

    /// Point 1: a real trace conforms to ext4-6.x (≥ 99 % of objects, every
    /// diverging object with its reason, expected and observed steps) and
    /// diverges from ext4-3.6, first at the deferred end of writeback.
    @Test(arguments: conversionTraces)
    func realTraceConformsToModernAndNotTo36(_ name: String) throws {
        let r = try ProfileDiff.run(TraceFile.open(path: Paths.trace(name)), profiles: [.ext4_6_x, .ext4_3_6])
        let modern = try #require(r.profiles.first { $0.profile == .ext4_6_x })
        let old = try #require(r.profiles.first { $0.profile == .ext4_3_6 })
        #expect(r.bestProfile == .ext4_6_x)
        #expect(modern.conformance >= 0.99)
        for f in modern.firstDivergences {
            #expect(!f.divergence.reason.isEmpty && !f.divergence.expected.isEmpty && !f.divergence.observed.isEmpty)
        }
        #expect(old.divergenceCount > 0)
        #expect(old.conformance < modern.conformance)
        let first = try #require(old.first?.divergence)
        #expect(first.kernelFunction == "sb_clear_inode_writeback")
        #expect(first.reason.contains("ended after its conversion"))
        #expect(first.kind == .ioEnd)
        // The io_end's history up to the divergence: it was converted before writeback ended.
        let history = try #require(old.first?.history)
        #expect(history.contains { $0.transition == "ext4_end_bio" })
        #expect(history.allSatisfy { $0.eventIndex <= first.eventIndex })
    }

    /// A trace without conversions (dioread_lock: blocks are allocated
    /// written) gives 3.6 nothing to disagree with: conformance is not a
    /// constant verdict.
    @Test func withoutConversionsEveryProfileConforms() throws {
        let r = try ProfileDiff.run(TraceFile.open(path: Paths.trace("diff/diff_dioread_lock.dat")), profiles: [.ext4_6_x, .ext4_3_6])
        #expect(r.profiles.allSatisfy { $0.divergenceCount == 0 })
    }

    /// Point 2: the same recording edited the way a pre-3.11 kernel ordered
    /// it (writeback ends at bio completion, Fixtures/make_profile_traces.py)
    /// conforms to ext4-3.6 and diverges from ext4-6.x; the verdict names the
    /// pre-3.11 profiles, which this trace cannot tell apart, and not 6.x.
    @Test func editedTo36ConformsTo36() throws {
        let r = try ProfileDiff.run(TraceFile.open(path: Paths.fixture("writeback_end_at_completion.txt")))
        let old = try #require(r.profiles.first { $0.profile == .ext4_3_6 })
        let modern = try #require(r.profiles.first { $0.profile == .ext4_6_x })
        #expect(old.divergenceCount == 0)
        #expect(old.conformance == 1)
        #expect(modern.divergenceCount == 8)
        #expect(modern.first?.divergence.reason.contains("still under writeback") == true)
        #expect(KernelTraits(r.bestProfile).endsWritebackBeforeConversion)
        #expect(r.reason.contains("ext4-3.6"))
        // The unedited recording: the verdict goes the other way.
        let real = try ProfileDiff.run(TraceFile.open(path: Paths.trace("diff/diff_default_a.txt")))
        #expect(real.bestProfile == .ext4_6_x)
        #expect(real.profiles.first { $0.profile == .ext4_3_6 }!.divergenceCount == 8)
    }

    /// Per-kind counts: every io_end of the trace is counted once.
    @Test func objectCounts() throws {
        let r = try ProfileDiff.run(TraceFile.open(path: Paths.trace("diff/diff_default_a.dat")), profiles: [.ext4_6_x])
        #expect(r.best.objects.objects[.ioEnd] == 8)
        #expect(r.best.objects.objects[.fsync] == 8)
        #expect(r.best.objects.conformance(.ioEnd) == 1)
    }
}

@Suite struct TraceDiffTests {
    static func lifecycles(_ name: String) throws -> TraceLifecycles {
        try TraceDiff.lifecycles(TraceFile.open(path: Paths.trace("diff/" + name)))
    }

    /// Point 3: default (dioread_nolock) against dioread_lock: the
    /// conversion path is there in A and absent in B.
    @Test func conversionPathPresentVsAbsent() throws {
        let r = TraceDiff.compare(try Self.lifecycles("diff_default_a.dat"), try Self.lifecycles("diff_dioread_lock.dat"))
        let io = try #require(r.changes.first { $0.kind == .ioEnd })
        #expect(io.removedTransitions.contains("ext4_convert_unwritten_io_end_vec"))
        #expect(io.newTransitions.isEmpty)
        #expect(r.differenceCount >= 1)
        let conversion = try #require(r.latencies.first { $0.metric == "bio done → conversion" })
        #expect(!conversion.a.samples.isEmpty)
        #expect(conversion.b.samples.isEmpty)
    }

    /// Two runs with the same options: nothing spurious.
    @Test func sameOptionsNoDifference() throws {
        let r = TraceDiff.compare(try Self.lifecycles("diff_default_a.dat"), try Self.lifecycles("diff_default_b.dat"))
        #expect(r.differenceCount == 0, "\(r.changes.filter { !$0.isEmpty })")
        #expect(r.changes.first { $0.kind == .fsync }?.objectsA == 8)
    }

    /// The same trace as .dat and .txt: identical lifecycles.
    @Test func datAndTextAgree() throws {
        let dat = try Self.lifecycles("diff_default_a.dat")
        let txt = try TraceDiff.lifecycles(TraceFile.open(path: Paths.trace("diff/diff_default_a.txt")), profile: .ext4_6_x)
        #expect(dat.kinds == txt.kinds)
    }

    /// Reordered steps are reported as such, not as a new and a removed lifecycle.
    @Test func reorderedSteps() {
        var a = LifecycleSummary(kind: .ioEnd)
        a.objects = 10
        a.signatures = ["x → y → z": 10]
        a.transitions = ["x": 10, "y": 10, "z": 10]
        var b = a
        b.signatures = ["x → z → y": 10]
        let c = TraceDiff.compare(a, b)
        #expect(c.reordered.count == 1)
        #expect(c.newSignatures.isEmpty && c.removedSignatures.isEmpty)
        #expect(c.newTransitions.isEmpty)
    }
}

/// The history `diff` shows for a first divergence is the diverging
/// object's own: the one a full `replay --ino` of its inode records, cut at
/// the divergence (the diff pass records only the diverging objects).
@Suite struct DiffHistoryTests {
    @Test(arguments: ["lost-events/lost_events.txt", "rename_over_dirty.dat", "punch_hole.dat"])
    func diffHistoryIsTheObjectsOwn(_ name: String) throws {
        let report = try ProfileDiff.run(TraceFile.open(path: Paths.trace(name)))
        var compared = 0
        var withHistory = 0
        for p in report.profiles {
            for f in p.firstDivergences {
                guard let inode = f.divergence.inode, let label = f.divergence.historyLabel else { continue }
                let full = try Replay.check(TraceFile.open(path: Paths.trace(name)),
                                            options: ReplayOptions(profile: p.profile, historyIno: inode.ino))
                let own = full.histories.first { $0.object == label && $0.generation == inode.generation }
                let expected = own?.changes.filter { $0.eventIndex <= f.divergence.eventIndex } ?? []
                #expect(f.history == expected, "\(name) \(p.profile) \(label) of \(inode)")
                compared += 1
                if !expected.isEmpty { withHistory += 1 }
            }
        }
        #expect(compared > 0)
        #expect(withHistory > 0)
    }

    /// Two kinds of object diverge at one event where a write's completion
    /// is not in the trace (as the recorder lost them when it dropped its
    /// CPU's irqs): the 6.12 recording's text twin without its first write
    /// request's `block_rq_complete` — an io_end and its inode's conversion
    /// work diverge together. The first divergences come by event, then by
    /// kind, the same on every run — not in a dictionary's per-process order.
    @Test func firstDivergencesAtOneEventComeInKindOrder() throws {
        let twin = try LabProfileTests.textTwin(Paths.trace("kernels/6.12.117+deb13-amd64/default/mmap_during_writeback.dat"))
        defer { try? FileManager.default.removeItem(atPath: twin) }
        var lines = try String(contentsOfFile: twin, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let lost = try #require(lines.firstIndex { $0.contains("block_rq_complete:") && $0.contains(" WS () ") })
        lines.remove(at: lost)
        let path = twin + ".cut.txt"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let r = try ProfileDiff.run(TraceFile.open(path: path))
        var ties = 0
        for p in r.profiles {
            let firsts = p.firstDivergences.map(\.divergence)
            for (a, b) in zip(firsts, firsts.dropFirst()) {
                #expect((a.eventIndex, a.kind) < (b.eventIndex, b.kind), "\(p.profile): \(a.kind) then \(b.kind)")
                if a.eventIndex == b.eventIndex { ties += 1 }
            }
        }
        #expect(ties > 0, "no two kinds diverge at one event without the completion")
    }
}
