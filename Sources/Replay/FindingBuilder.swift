import EventGraph
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
        var groups: [String: [(PendingFinding, Judgement)]] = [:]
        var order: [String] = []
        for p in pending {
            let j = judgement(p)
            let key = "\(p.violation.rule)|\(p.violation.inode.map { "\($0)" } ?? "\(p.violation.dev)")|\(p.at.index)|\(j.verdict)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append((p, j))
        }
        return order.map { build(groups[$0]!, profile: profile) }
    }

    /// A finding's verdict: `violated` when every ordering it depends on is
    /// proven (happens-before, one CPU, a global clock, or a gap wider than
    /// CPUs' clocks disagree) and no events were lost in its window;
    /// otherwise `inconclusive`, saying which pair nothing orders.
    struct Judgement {
        var verdict: Verdict
        var reason: String?
        var pairs: [DecidingPair]
    }

    func judgement(_ p: PendingFinding) -> Judgement {
        let judge = OrderJudge(window: HappensBeforeWindow(capacity: 16), reliability: reliability)
        var reasons: [String] = []
        var pairs: [DecidingPair] = []
        var stamps: [Stamp] = [p.at]
        var awaitedNever = false
        for o in p.obligations {
            stamps += [o.before, o.after].compactMap { $0 }
            guard let a = o.before else { continue }
            guard let b = o.after else {
                awaitedNever = true
                pairs.append(DecidingPair(before: witness(a, o.beforeRole), after: nil, afterRole: o.afterRole, evidence: nil))
                continue
            }
            let ordering = o.ordering ?? .unordered
            var evidence: String?
            switch ordering {
            case .ordered(let e): evidence = e.rawValue
            case .reversed(let e): reasons.append(judge.reversedReason(a, o.beforeRole, b, o.afterRole, by: e, names: names))
            case .unordered: reasons.append(judge.unorderedReason(a, o.beforeRole, b, o.afterRole, names: names))
            }
            pairs.append(DecidingPair(before: witness(a, o.beforeRole), after: witness(b, o.afterRole), afterRole: o.afterRole,
                                      evidence: evidence))
        }
        let from = stamps.map(\.timestamp).min() ?? p.at.timestamp
        let to = awaitedNever ? UInt64.max : (stamps.map(\.timestamp).max() ?? p.at.timestamp)
        // A loss in the window first: a missing event is never proof.
        if let loss = reliability.lossAffecting(from: from, to: to) {
            reasons.insert(loss + (awaitedNever ? " (the awaited event may be among them)" : ""), at: 0)
        }
        if let why = p.undecidable { reasons.insert(why, at: 0) }
        return Judgement(verdict: reasons.isEmpty ? .violated : .inconclusive, reason: reasons.first, pairs: pairs)
    }

    func witness(_ s: Stamp, _ role: String) -> WitnessEvent {
        WitnessEvent(index: s.index, timestamp: s.timestamp, cpu: s.cpu, pid: s.pid, name: names[s.name], role: role, actor: -1)
    }

    private func build(_ group: [(PendingFinding, Judgement)], profile: KernelProfile) -> Finding {
        let (first, judged) = group[0]
        let v = first.violation
        let ranges = group.compactMap(\.0.violation.range)
        let lo = ranges.map(\.lblk).min() ?? 0
        let hi = ranges.map(\.end).max() ?? lo
        // The witness: the deciding events and their causes first, then the
        // io_end's story (one object's chain reads better than all merged).
        var entries: [Int: TrailEntry] = [:]
        let told = Dictionary(first.trail.map { ($0.stamp.index, $0.role) }, uniquingKeysWith: { a, _ in a })
        for e in first.causes where entries[e.stamp.index] == nil {
            // What the model did there, and why the verdict needs it.
            var e = e
            if let role = told[e.stamp.index], role != e.role { e.role = role + " — " + e.role }
            entries[e.stamp.index] = e
        }
        var trail = first.trail.filter { entries[$0.stamp.index] == nil }
        let room = max(0, Self.witnessLimit - entries.count)
        if trail.count > room { trail = Array(trail.prefix(min(2, room))) + Array(trail.suffix(room - min(2, room))) }
        for e in trail { entries[e.stamp.index] = e }
        var kept = entries.values.sorted { $0.stamp.index < $1.stamp.index }
        if kept.count > Self.witnessLimit { kept = Array(kept.suffix(Self.witnessLimit)) }
        let (actors, witness) = actorsAndWitness(kept)
        let awaited = first.obligations.last { $0.awaiting == nil && $0.after != nil && $0.before?.index == first.at.index }?.after
        return Finding(
            rule: v.rule, verdict: judged.verdict, dev: v.dev,
            ino: v.inode?.ino ?? 0, generation: v.inode?.generation ?? 0, lblk: lo, len: hi - lo,
            timestamp: first.at.timestamp, eventIndex: first.at.index, witness: witness, actors: actors,
            explanation: explain(group.map(\.0), ranges: ranges, lo: lo, hi: hi, profile: profile, resolved: awaited),
            inconclusiveReason: judged.reason, clock: reliability.clock, deciding: judged.pairs)
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
        // Ranges that cover lo..<hi without a gap (an io_end's folios, one
        // range each) read as the one span they are.
        var covered = lo
        for r in ranges.sorted(by: { $0.lblk < $1.lblk }) where r.lblk <= covered { covered = max(covered, r.end) }
        let blocks = ranges.count > 1 && covered < hi ? "\(ranges.count) block ranges between \(lo) and \(hi)"
                                                      : "blocks \(lo)–\(hi == lo ? lo : hi - 1)"
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
        let model = group.count > 1 ? "Model, the first of \(group.count) violations: \(v.detail)." : "Model: \(v.detail)."
        return what + later + " " + model + " Replayed against profile \(profile)."
    }
}
