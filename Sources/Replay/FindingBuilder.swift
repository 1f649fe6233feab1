import TraceIO
import WritebackModel

/// Turns the model's rule violations into findings: one per rule, inode
/// and event (the ranges of one fsync merge), each with a verdict that says
/// whether lost events or the clock could undo it, a witness of at most 20
/// events, its actors and one paragraph of explanation.
struct FindingBuilder {
    let reliability: TraceReliability
    let comms: [Int32: String]
    let names: EventNames
    static let witnessLimit = 20

    func findings(from pending: [PendingFinding], profile: KernelProfile) -> [Finding] {
        var groups: [String: [PendingFinding]] = [:]
        var order: [String] = []
        for p in pending {
            let key = "\(p.violation.rule)|\(p.violation.inode.map { "\($0)" } ?? "\(p.violation.dev)")|\(p.at.index)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(p)
        }
        return order.map { build(groups[$0]!, profile: profile) }
    }

    private func build(_ group: [PendingFinding], profile: KernelProfile) -> Finding {
        let first = group[0]
        let v = first.violation
        let ranges = group.compactMap(\.violation.range)
        let lo = ranges.map(\.lblk).min() ?? 0
        let hi = ranges.map(\.end).max() ?? lo
        var entries: [Int: TrailEntry] = [:]
        // One object's chain (the first range's io_end) reads better than all of them merged.
        for e in first.trail where entries[e.stamp.index] == nil { entries[e.stamp.index] = e }
        if let r = first.resolvedBy, entries[r.index] == nil {
            entries[r.index] = TrailEntry(stamp: r, role: "the pending conversion / release happens only now")
        }
        var trail = entries.values.sorted { $0.stamp.index < $1.stamp.index }
        if trail.count > Self.witnessLimit {
            trail = Array(trail.prefix(5)) + Array(trail.suffix(Self.witnessLimit - 5))
        }
        let (actors, witness) = actorsAndWitness(trail)

        // The verdict: did the window lose events, can the clock order the deciding pair?
        let windowStart = trail.first?.stamp.timestamp ?? first.at.timestamp
        var reason = reliability.lossAffecting(from: windowStart, to: first.at.timestamp)
        if reason == nil {
            let before = trail.last { $0.stamp.index < first.at.index && $0.stamp.cpu != first.at.cpu }
            let pairs = [before?.stamp, group.compactMap(\.resolvedBy).first].compactMap { $0 }
            for other in pairs {
                if let why = reliability.clockAmbiguity((first.at.timestamp, first.at.cpu), (other.timestamp, other.cpu)) {
                    reason = why
                    break
                }
            }
        }
        return Finding(
            rule: v.rule, verdict: reason == nil ? .violated : .inconclusive, dev: v.dev,
            ino: v.inode?.ino ?? 0, generation: v.inode?.generation ?? 0, lblk: lo, len: hi - lo,
            timestamp: first.at.timestamp, eventIndex: first.at.index, witness: witness, actors: actors,
            explanation: explain(group, ranges: ranges, lo: lo, hi: hi, profile: profile,
                                 resolved: group.compactMap(\.resolvedBy).first),
            inconclusiveReason: reason, clock: reliability.clock)
    }

    func actor(of s: Stamp) -> FindingActor {
        let comm = comms[s.pid] ?? "?"
        let name = names[s.name]
        if name.hasPrefix("block_rq_complete") || name == "block_rq_error" || comm.hasPrefix("ksoftirqd") || s.pid == 0 {
            return FindingActor(name: "irq (cpu \(s.cpu))", kind: .irq)
        }
        if comm.hasPrefix("kworker") { return FindingActor(name: "\(comm)-\(s.pid)", kind: .kworker) }
        return FindingActor(name: "\(comm)-\(s.pid)", kind: .task)
    }

    private func actorsAndWitness(_ trail: [TrailEntry]) -> ([FindingActor], [WitnessEvent]) {
        var actors: [FindingActor] = []
        var witness: [WitnessEvent] = []
        for e in trail {
            let a = actor(of: e.stamp)
            let column: Int
            if let i = actors.firstIndex(of: a) { column = i } else { actors.append(a); column = actors.count - 1 }
            witness.append(WitnessEvent(index: e.stamp.index, timestamp: e.stamp.timestamp, cpu: e.stamp.cpu,
                                        pid: e.stamp.pid, name: names[e.stamp.name], role: e.role, actor: column))
        }
        return (actors, witness)
    }

    private func explain(_ group: [PendingFinding], ranges: [BlockRange], lo: UInt64, hi: UInt64,
                         profile: KernelProfile, resolved: Stamp?) -> String {
        let v = group[0].violation
        let inode = v.inode.map { "inode \($0.ino)" + ($0.generation > 0 ? " (generation \($0.generation))" : "") } ?? "the file system"
        let blocks = ranges.count > 1 ? "\(ranges.count) block ranges between \(lo) and \(hi)" : "blocks \(lo)–\(hi == lo ? lo : hi - 1)"
        let later = resolved.map { " The conversion only came at event \($0.index) (\(formatTime($0.timestamp)) s)." } ?? ""
        let what: String
        switch v.rule {
        case .fsyncBeforeConversion:
            what = "fsync on \(inode) returned success while \(blocks) held data already written to disk behind an extent still marked unwritten: the io_end carrying them had completed but its conversion had not run. A crash after this fsync returns zeros for data the application was told is durable (seed 002)."
        case .staleReadBeforeConversion:
            what = "A folio of \(inode) covering \(blocks) left the page cache and was read back from disk while its blocks were still unwritten although its data write had completed: the read returns zeros instead of the data just written (seeds 000, 002)."
        case .truncateDuringConversion:
            what = "Blocks of \(inode) (\(blocks)) were removed by truncate or punch hole while the conversion of an io_end covering them was still pending; the later conversion works on freed or reused blocks (seed 002)."
        case .evictWithPendingIO:
            what = "\(inode.prefix(1).uppercased() + inode.dropFirst()) was evicted and freed while one of its io_ends (\(blocks)) still awaited conversion or release; the conversion work then runs on a freed inode (seed 000, CVE-2025-38580)."
        case .writeWhileFrozen:
            what = "After FIFREEZE had returned and before FITHAW, \(inode) was written: a folio was dirtied or a write sent to the device of the frozen file system (\(blocks)); a snapshot taken now is not consistent (seed 001)."
        case .unstablePageWrite:
            what = "A folio of \(inode) (\(blocks)) was modified while its writeback was in flight on a device that requires stable pages; the checksum or RAID parity computed at submission no longer matches the data (seed 003)."
        case .conversionAfterIOError:
            what = "\(blocks.prefix(1).uppercased() + blocks.dropFirst()) of \(inode) were converted from unwritten to written although the write carrying their data failed: reads now return stale disk contents (e856f93e0fb2)."
        }
        return what + later + " Model: \(v.detail). Replayed against profile \(profile)."
    }
}
