import TraceIO
import WritebackModel

/// One trace's lifecycles, as `diff A B` compares them.
public struct TraceLifecycles: Hashable, Sendable {
    public var trace: String
    public var profile: KernelProfile
    public var events: Int
    public var kinds: [LifecycleSummary]
    public var latencies: [LatencySamples]

    public func summary(_ kind: ReplayObjectKind) -> LifecycleSummary {
        kinds.first { $0.kind == kind } ?? LifecycleSummary(kind: kind)
    }
}

/// What changed in one object kind from A to B.
public struct KindChange: Hashable, Sendable {
    public struct SignatureShare: Hashable, Sendable {
        public var signature: LifecycleSignature
        public var countA: Int
        public var countB: Int
    }

    public var kind: ReplayObjectKind
    public var objectsA: Int
    public var objectsB: Int
    /// Transitions some objects took in B and none in A, and the reverse.
    public var newTransitions: [String]
    public var removedTransitions: [String]
    /// Lifecycles common in one trace and absent from the other.
    public var newSignatures: [SignatureShare]
    public var removedSignatures: [SignatureShare]
    /// The same steps in another order: (in A, in B).
    public var reordered: [(a: LifecycleSignature, b: LifecycleSignature)]

    public var isEmpty: Bool {
        newTransitions.isEmpty && removedTransitions.isEmpty && newSignatures.isEmpty
            && removedSignatures.isEmpty && reordered.isEmpty
    }

    public static func == (x: KindChange, y: KindChange) -> Bool {
        x.kind == y.kind && x.newTransitions == y.newTransitions && x.removedTransitions == y.removedTransitions
            && x.newSignatures == y.newSignatures && x.removedSignatures == y.removedSignatures
            && x.reordered.map(\.a) == y.reordered.map(\.a) && x.reordered.map(\.b) == y.reordered.map(\.b)
    }

    public func hash(into h: inout Hasher) { h.combine(kind); h.combine(newTransitions); h.combine(removedTransitions) }
}

/// One latency metric in both traces.
public struct LatencyChange: Hashable, Sendable {
    public var metric: String
    public var a: LatencySamples
    public var b: LatencySamples
}

/// `wbreplay diff A B`.
public struct TraceDiffReport: Hashable, Sendable {
    public var a: TraceLifecycles
    public var b: TraceLifecycles
    public var changes: [KindChange]
    public var latencies: [LatencyChange]
    /// Real differences (not counts or latencies, which two runs never share exactly).
    public var differenceCount: Int { changes.filter { !$0.isEmpty }.count }
}

public enum TraceDiff {
    /// A lifecycle or transition counts as present when at least this share
    /// of a kind's objects (and two objects) show it: below that, one run
    /// catching a rare timing (an inline conversion, a retried fsync) and
    /// the other not is noise, not a change of behaviour.
    public static let presenceShare = 0.02

    /// Replays one trace under `profile` (else its recorded kernel's, else
    /// the best fit) and collects the lifecycles of its objects.
    public static func lifecycles(_ reader: some TraceReader, profile: KernelProfile? = nil) throws -> TraceLifecycles {
        let chosen: KernelProfile
        if let profile { chosen = profile }
        else if let release = reader.metadata.kernelRelease, let p = KernelProfile.forRelease(release) { chosen = p }
        else { chosen = try ProfileDiff.run(reader).bestProfile }
        var replay = ProfileReplay(profile: chosen, stableWrites: reader.metadata.recording["stable_writes"] == "1", historyInode: nil)
        replay.lifecycles = LifecycleRecorder()
        let d = try Replay.run(reader, replays: [replay])
        let rec = d.replays[0].lifecycles!
        return TraceLifecycles(trace: reader.path, profile: chosen, events: d.events, kinds: rec.finalSummaries,
                               latencies: LifecycleRecorder.metrics.map { rec.latencies[$0.0] ?? LatencySamples(metric: $0.0) })
    }

    public static func compare(_ a: TraceLifecycles, _ b: TraceLifecycles) -> TraceDiffReport {
        let kinds = Set(a.kinds.map(\.kind)).union(b.kinds.map(\.kind)).sorted()
        let changes = kinds.map { compare(a.summary($0), b.summary($0)) }
        let latencies = zip(a.latencies, b.latencies).map { LatencyChange(metric: $0.metric, a: $0, b: $1) }
        return TraceDiffReport(a: a, b: b, changes: changes, latencies: latencies)
    }

    static func present(_ count: Int, of total: Int) -> Bool {
        count >= 2 && Double(count) >= presenceShare * Double(max(total, 1))
    }

    static func compare(_ a: LifecycleSummary, _ b: LifecycleSummary) -> KindChange {
        let steps = Set(a.transitions.keys).union(b.transitions.keys).sorted()
        let newT = steps.filter { (a.transitions[$0] ?? 0) == 0 && present(b.transitions[$0] ?? 0, of: b.objects) }
        let removedT = steps.filter { (b.transitions[$0] ?? 0) == 0 && present(a.transitions[$0] ?? 0, of: a.objects) }
        let sigs = Set(a.signatures.keys).union(b.signatures.keys).sorted()
        let share = { (s: LifecycleSignature) in KindChange.SignatureShare(signature: s, countA: a.signatures[s] ?? 0, countB: b.signatures[s] ?? 0) }
        var newS = sigs.filter { (a.signatures[$0] ?? 0) == 0 && present(b.signatures[$0] ?? 0, of: b.objects) }
        var removedS = sigs.filter { (b.signatures[$0] ?? 0) == 0 && present(a.signatures[$0] ?? 0, of: a.objects) }
        // Same steps, other order: reported once as reordered, not as new + removed.
        var reordered: [(a: LifecycleSignature, b: LifecycleSignature)] = []
        for s in newS {
            let key = stepMultiset(s)
            if let old = removedS.first(where: { stepMultiset($0) == key }) {
                reordered.append((old, s))
                removedS.removeAll { $0 == old }
            }
        }
        newS.removeAll { s in reordered.contains { $0.b == s } }
        return KindChange(kind: a.kind, objectsA: a.objects, objectsB: b.objects, newTransitions: newT, removedTransitions: removedT,
                          newSignatures: newS.map(share), removedSignatures: removedS.map(share), reordered: reordered)
    }

    static func stepMultiset(_ s: LifecycleSignature) -> [String] {
        s.split(separator: " → ").map(String.init).sorted()
    }
}
