import KernelEvents
import TraceIO
import WritebackModel

/// A profile's first divergence for one object kind, with the object's
/// state history up to it.
public struct FirstDivergence: Hashable, Sendable {
    public var divergence: Divergence
    public var history: [StateChange]
}

/// How well a trace fits one profile.
public struct ProfileConformance: Hashable, Sendable {
    public var profile: KernelProfile
    public var objects: ObjectConformance
    public var divergenceCount: Int
    /// One per object kind that diverged, in trace order.
    public var firstDivergences: [FirstDivergence]
    /// The earliest divergence of all.
    public var first: FirstDivergence? { firstDivergences.first }
    /// Objects without divergence over all objects.
    public var conformance: Double { objects.overall }
}

/// `wbreplay diff FILE`: the trace replayed under each profile.
public struct ProfileDiffReport: Hashable, Sendable {
    public var trace: String
    public var events: Int
    public var lostEvents: UInt64
    public var recordedRelease: String?
    public var profiles: [ProfileConformance]
    public var bestProfile: KernelProfile
    public var reason: String

    public var best: ProfileConformance { profiles.first { $0.profile == bestProfile }! }
}

public enum ProfileDiff {
    /// Replays `reader` under `profiles` (all, newest first, when empty) in
    /// one pass, as few replays as the trace lets the profiles share
    /// (`ProfileGroups`), on two threads (`runGrouped`); then,
    /// for the state histories of the objects that diverged first, the
    /// trace's prefix up to the last of those divergences once more, under
    /// one profile of each group, recording only those objects. Throws what
    /// the reader throws.
    public static func run(_ reader: some TraceReader, profiles: [KernelProfile] = [],
                           stableWrites: Bool = false) throws -> ProfileDiffReport {
        let meta = reader.metadata
        let stable = stableWrites || meta.recording["stable_writes"] == "1"
        let chosen = profiles.isEmpty ? KernelProfile.newestFirst : profiles
        let (first, groups) = try Replay.runGrouped(reader, profiles: chosen, stableWrites: stable)

        // Second pass over the prefix that holds the first divergences: one
        // history replay per (group, inode), recording only the objects
        // that diverged. A history ends at its divergence, so the events
        // after the last one are not read. The profiles of a group took the
        // same steps all along (`ProfileGroups`): its first profile's
        // histories are every member's.
        var wanted: [(profile: KernelProfile, ino: UInt64, objects: Set<String>)] = []
        var through = 0
        let representatives = Set(groups.compactMap(\.first))
        for r in first.replays where representatives.contains(r.profile) {
            for d in Self.inOrder(r.firstDivergence) {
                guard let ino = d.inode?.ino else { continue }
                through = max(through, d.eventIndex)
                let label = d.historyLabel.map { Set([$0]) } ?? []
                if let i = wanted.firstIndex(where: { $0.profile == r.profile && $0.ino == ino }) {
                    wanted[i].objects.formUnion(label)
                } else {
                    wanted.append((r.profile, ino, label))
                }
            }
        }
        var histories: [KernelProfile: [ObjectHistory]] = [:]
        if !wanted.isEmpty {
            let second = try Replay.runSplit(reader, replays: wanted.map {
                ProfileReplay(profile: $0.profile, stableWrites: stable, historyInode: $0.ino, historyObjects: $0.objects)
            }, through: through)
            for r in second.replays { histories[r.profile, default: []] += r.history?.all ?? [] }
            for group in groups {
                for member in group.dropFirst() { histories[member] = histories[group[0]] }
            }
        }

        let results = first.replays.map { r in
            ProfileConformance(
                profile: r.profile, objects: r.conformance, divergenceCount: r.divergenceCount,
                firstDivergences: Self.inOrder(r.firstDivergence).map { d in
                    FirstDivergence(divergence: d, history: history(of: d, in: histories[r.profile] ?? []))
                })
        }
        let (best, reason) = bestFit(results, release: meta.kernelRelease)
        return ProfileDiffReport(trace: reader.path, events: first.events, lostEvents: first.reliability.lostEventCount,
                                 recordedRelease: meta.kernelRelease, profiles: results, bestProfile: best, reason: reason)
    }

    /// The first divergences of a replay by event, and at one event by the
    /// object's kind: the dictionary's own order changes from run to run,
    /// and two kinds often diverge at the same event.
    static func inOrder(_ first: [ReplayObjectKind: Divergence]) -> [Divergence] {
        first.sorted { ($0.value.eventIndex, $0.key) < ($1.value.eventIndex, $1.key) }.map(\.value)
    }

    /// The diverging object's states up to (and including) the divergence.
    static func history(of d: Divergence, in all: [ObjectHistory]) -> [StateChange] {
        guard let inode = d.inode, let label = d.historyLabel,
              let h = all.first(where: { $0.object == label && $0.generation == inode.generation }) else { return [] }
        return h.changes.filter { $0.eventIndex <= d.eventIndex }
    }

    /// The first of `ProfileSelection.ranked`: highest conformance, then fewer divergences, then the newer profile.
    static func bestFit(_ results: [ProfileConformance], release: String?) -> (KernelProfile, String) {
        let ranked = ProfileSelection.ranked(results, conformance: \.conformance, divergences: \.divergenceCount)
        let best = ranked[0]
        var reason = "highest conformance: \(percent(best.conformance)) of objects, \(best.divergenceCount) divergence(s)"
        let tied = ranked.dropFirst().filter { $0.conformance == best.conformance && $0.divergenceCount == best.divergenceCount }
        if !tied.isEmpty {
            reason += "; tied with \(tied.map(\.profile.rawValue).joined(separator: ", ")), which this trace cannot tell apart"
        } else if ranked.count > 1 {
            reason += " (next: \(ranked[1].profile) with \(percent(ranked[1].conformance)), \(ranked[1].divergenceCount))"
        }
        if let release, let recorded = KernelProfile.forRelease(release) {
            reason += recorded == best.profile ? "; matches the recorded kernel \(release)"
                                               : "; the recorded kernel \(release) maps to \(recorded)"
        }
        return (best.profile, reason)
    }

    /// "99.8%": tenths, rounded down (a profile shown at 100.0% has no divergence).
    public static func percent(_ x: Double) -> String {
        let tenths = Int((x * 1000).rounded(.down))
        return "\(tenths / 10).\(tenths % 10)%"
    }
}

extension Replay {
    /// Streams `reader` through `replays` (reading and decoding on a second
    /// thread) and returns the dispatcher with their final states. With
    /// `pruneEvery`, a best fit keeps only the replays with the fewest
    /// divergences so far every that many events.
    static func run(_ reader: some TraceReader, replays: [ProfileReplay],
                    crossCPUBound: UInt64 = 100_000, pruneEvery: Int? = nil,
                    through: Int? = nil, judgesFindings: Bool = true) throws -> ReplayDispatcher {
        var dispatcher = ReplayDispatcher(
            replays: replays, reliability: TraceReliability(metadata: reader.metadata, crossCPUBound: crossCPUBound),
            metadata: reader.metadata)
        dispatcher.judgesFindings = judgesFindings
        dispatcher.front = try ReplayPipeline.run(
            reader, options: ReadOptions(fields: ReplayFrontEnd.fields, keepRawText: false),
            front: dispatcher.front, through: through) { decoded in
            let index = decoded.stamp.index
            dispatcher.apply(dispatcher.binder.bind(&decoded))
            if let every = pruneEvery, index % every == every - 1 {
                dispatcher.pruneProfiles(atEvent: index + 1)
            }
        }
        dispatcher.finishReading()
        return dispatcher
    }
}
