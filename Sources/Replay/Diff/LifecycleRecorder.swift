import WritebackModel

/// The canonical event sequence of one object's life: the kernel functions
/// the model took for it, in order, repeats folded ("ext4_io_submit →
/// blk_mq_start_request → ext4_end_bio → …").
public typealias LifecycleSignature = String

/// What `diff A B` compares per object kind: how many objects lived, which
/// lifecycles they went through, which transitions appeared at all.
public struct LifecycleSummary: Hashable, Sendable {
    public var kind: ReplayObjectKind
    /// Objects whose life ended inside the trace.
    public var objects = 0
    /// Objects still alive when the trace ended (not compared).
    public var unfinished = 0
    public var signatures: [LifecycleSignature: Int] = [:]
    /// For each transition: how many finished objects took it at least once.
    public var transitions: [String: Int] = [:]
}

/// Latency samples between two steps of objects' lives.
public struct LatencySamples: Hashable, Sendable {
    public var metric: String
    public var samples: [UInt64] = []

    /// The p-th percentile (0…100), nearest rank; nil without samples.
    public func percentile(_ p: Double) -> UInt64? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}

/// Follows io_ends, fsyncs and block-changing operations through the
/// transitions a replay applies. Memory: the live objects and one counter
/// per distinct lifecycle; latency samples are capped per metric.
struct LifecycleRecorder {
    struct Live {
        var steps: [String] = []
        var firstAt: [String: UInt64] = [:]
    }

    static let followed: Set<ReplayObjectKind> = [.ioEnd, .fsync, .extent]
    static let sampleCap = 1_000_000
    /// Latency metrics: name, kind, from step, to step.
    static let metrics: [(String, ReplayObjectKind, String, String)] = [
        ("io_end submit → bio done", .ioEnd, "ext4_io_submit", "ext4_end_bio"),
        ("bio done → conversion", .ioEnd, "ext4_end_bio", "ext4_convert_unwritten_io_end_vec"),
        ("conversion → release", .ioEnd, "ext4_convert_unwritten_io_end_vec", "ext4_release_io_end"),
        ("fsync enter → exit", .fsync, "ext4_sync_file", "ext4_sync_file_exit"),
    ]

    /// By kind and key (the same object is named with or without its inode
    /// depending on the transition).
    private var live: [String: (kind: ReplayObjectKind, life: Live)] = [:]
    private(set) var summaries: [ReplayObjectKind: LifecycleSummary] = [:]
    private(set) var latencies: [String: LatencySamples] = [:]

    /// `object` took `t` at `timestamp`; `ended` says its life is over.
    mutating func record(_ t: Transition, object: ReplayObject, at timestamp: UInt64, ended: Bool) {
        guard Self.followed.contains(object.kind) else { return }
        let step = t.kernelFunction
        let id = "\(object.kind.rawValue) \(object.key)"
        var l = live[id]?.life ?? Live()
        if l.steps.last != step { l.steps.append(step) }
        if l.firstAt[step] == nil { l.firstAt[step] = timestamp }
        if ended {
            live[id] = nil
            finish(object.kind, l)
        } else {
            live[id] = (object.kind, l)
        }
    }

    private mutating func finish(_ kind: ReplayObjectKind, _ l: Live) {
        var s = summaries[kind] ?? LifecycleSummary(kind: kind)
        s.objects += 1
        s.signatures[l.steps.joined(separator: " → "), default: 0] += 1
        for step in Set(l.steps) { s.transitions[step, default: 0] += 1 }
        summaries[kind] = s
        for (name, k, from, to) in Self.metrics where k == kind {
            guard let a = l.firstAt[from], let b = l.firstAt[to], b >= a else { continue }
            var m = latencies[name] ?? LatencySamples(metric: name)
            if m.samples.count < Self.sampleCap { m.samples.append(b - a) }
            latencies[name] = m
        }
    }

    /// The summaries, with the objects still alive counted as unfinished.
    var finalSummaries: [LifecycleSummary] {
        var out = summaries
        for (kind, _) in live.values {
            out[kind, default: LifecycleSummary(kind: kind)].unfinished += 1
        }
        return out.values.sorted { $0.kind < $1.kind }
    }
}

extension ProfileReplay {
    /// Whether `t` (just applied) ended the life of `o`: an io_end released,
    /// an fsync returned, a block-changing operation finished.
    func lifeEnded(_ t: Transition, _ o: ReplayObject) -> Bool {
        switch o.kind {
        case .ioEnd:
            return t.ioEndRef.map { state.ioEnd($0) == nil } ?? false
        case .fsync:
            if case .ext4SyncFileReturn = t { return true }
            return false
        case .extent:
            if case .task(let id) = t.actor { return state.tasks[id] == nil }
            return false
        default:
            return false
        }
    }
}

extension Transition {
    /// The io_end a transition acts on, if any.
    var ioEndRef: IoEndRef? {
        switch self {
        case .ext4IoSubmit(_, let io), .ext4PutIoEnd(_, let io), .ext4AddCompleteIo(let io), .ext4EndIoWork(let io),
             .ext4ConvertUnwrittenIoEndVec(let io), .ext4ReleaseIoEnd(let io):
            return io
        case .blkMqStartRequest(let b), .ext4EndBio(let b, _):
            return b.ioEnd
        default:
            return nil
        }
    }
}
