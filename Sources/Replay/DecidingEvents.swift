import EventGraph
import TraceIO
import WritebackModel

/// The events that decide an io_end's story, as the replay met them.
struct IoEndEvents: Sendable {
    /// `ext4_io_submit`: its first bio was queued.
    var submitted: Stamp?
    /// The completion after which all its data was on disk.
    var completed: Stamp?
    /// A completion that failed, and its error.
    var failed: Stamp?
    var failedError: Int64 = 0
}

/// A later event a finding's verdict waits for.
enum AwaitedEvent: Hashable, Sendable {
    /// The io_end's unwritten blocks in the range become written (or leave the file).
    case conversion(IoEndRef, BlockRange)
    /// The io_end's own conversion runs (or the io_end is gone): what a
    /// removal of its blocks does to the extents cannot stand for it.
    case ioEndConversion(IoEndRef)
    /// The io_end is released (its writeback ended).
    case release(IoEndRef)
    /// The folio's writeback ends.
    case writebackEnd(FolioRef)
    /// The file system is thawed (FITHAW).
    case thaw(DeviceNumber)

    var role: String {
        switch self {
        case .conversion: return "the conversion"
        case .ioEndConversion: return "the io_end's conversion"
        case .release: return "the io_end's release"
        case .writebackEnd: return "the end of the folio's writeback"
        case .thaw: return "FITHAW"
        }
    }
}

/// One ordering a rule depends on: `before` must precede `after`. The
/// event that breaks a rule is one end; the other is an object's deciding
/// event, met earlier (a completion, a freeze) or awaited (a conversion).
struct Obligation: Sendable {
    var before: Stamp?
    var beforeRole: String
    var after: Stamp?
    var afterRole: String
    /// Set while `after` has not happened yet.
    var awaiting: AwaitedEvent?
    var ordering: Ordering?
}

extension ProfileReplay {
    /// The orderings `v`'s verdict depends on (the rule ids' definitions,
    /// DOMAIN §4): what must have happened before the breaking event, and
    /// what must come after it.
    func obligations(for v: RuleViolation) -> [Obligation] {
        let here = "\(v.transition.kernelFunction): \(v.rule)"
        let io = v.ioEnd.flatMap { ioEndEvents[$0] }
        switch v.rule {
        case .fsyncBeforeConversion, .staleReadBeforeConversion:
            guard let ref = v.ioEnd, let range = v.range else { return [] }
            return [Obligation(before: io?.completed, beforeRole: "the data write completed", after: now, afterRole: here),
                    Obligation(before: now, beforeRole: here, after: nil, afterRole: AwaitedEvent.conversion(ref, range).role,
                               awaiting: .conversion(ref, range))]
        case .truncateDuringConversion:
            guard let ref = v.ioEnd else { return [] }
            return [Obligation(before: io?.submitted, beforeRole: "the io_end was submitted", after: now, afterRole: here),
                    Obligation(before: now, beforeRole: here, after: nil, afterRole: AwaitedEvent.ioEndConversion(ref).role,
                               awaiting: .ioEndConversion(ref))]
        case .evictWithPendingIO:
            guard let ref = v.ioEnd else { return [] }
            let converted = state.ioEnd(ref).map { $0.phase >= .converted || $0.unwrittenRanges.isEmpty } ?? true
            let awaited: AwaitedEvent = converted ? .release(ref) : .ioEndConversion(ref)
            return [Obligation(before: io?.submitted, beforeRole: "the io_end was submitted", after: now, afterRole: here),
                    Obligation(before: now, beforeRole: here, after: nil, afterRole: awaited.role, awaiting: awaited)]
        case .writeWhileFrozen:
            return [Obligation(before: frozenAt[v.dev], beforeRole: "FIFREEZE returned", after: now, afterRole: here),
                    Obligation(before: now, beforeRole: here, after: nil, afterRole: AwaitedEvent.thaw(v.dev).role,
                               awaiting: .thaw(v.dev))]
        case .unstablePageWrite:
            guard let folio = v.folio else { return [] }
            return [Obligation(before: writebackStarted[folio], beforeRole: "the folio's writeback started", after: now, afterRole: here),
                    Obligation(before: now, beforeRole: here, after: nil, afterRole: AwaitedEvent.writebackEnd(folio).role,
                               awaiting: .writebackEnd(folio))]
        case .conversionAfterIOError:
            return [Obligation(before: io?.failed, beforeRole: "the data write failed (error \(io?.failedError ?? 0))",
                               after: now, afterRole: here)]
        }
    }

    /// Whether the awaited event has happened by now, in the model's state.
    func hasHappened(_ awaited: AwaitedEvent) -> Bool {
        switch awaited {
        case .conversion(let io, let range):
            guard let inode = state.inodes[io.inode] else { return true }
            return inode.extents.ranges(in: range, state: .unwritten).isEmpty
        case .ioEndConversion(let io):
            guard let phase = state.ioEnd(io)?.phase else { return true }
            // A conversion the trace shows outside the profile's order (a
            // caller's CONVERT) leaves the phase to the steps that follow,
            // but it is the conversion awaited — also when the removal took
            // every block of the io_end, so that the extents cannot show it.
            return phase >= .converted || conversionSeenOutOfOrder[io] != nil
        case .release(let io):
            return state.ioEnd(io) == nil
        case .writebackEnd(let folio):
            return state.folio(folio)?.writeback != true
        case .thaw(let dev):
            return state.superblocks[dev]?.freeze != .frozen
        }
    }

    /// Findings waiting for a later event learn that it happened now; a
    /// finding whose orderings are all known is judged at once, while the
    /// happens-before window still holds its events.
    mutating func resolvePending(_ judge: OrderJudge) {
        for i in findings.indices where !findings[i].judged {
            var complete = true
            for j in findings[i].obligations.indices {
                if let awaited = findings[i].obligations[j].awaiting {
                    // The step that broke the rule may itself be the awaited one.
                    if now.index != findings[i].at.index, hasHappened(awaited) {
                        findings[i].obligations[j].after = now
                        findings[i].obligations[j].awaiting = nil
                    } else {
                        complete = false
                    }
                }
            }
            if complete { judgeFinding(i, judge) }
        }
        waitingFindings = findings.contains { !$0.judged }
    }

    /// Orders every pair of the finding and keeps the causal chains of its
    /// deciding events for the witness.
    mutating func judgeFinding(_ i: Int, _ judge: OrderJudge) {
        if let taken = tape.taken(findings[i], at: now.index) {
            findings[i] = taken
            tape.record(taken, at: now.index)
            return
        }
        var f = findings[i]
        for j in f.obligations.indices {
            guard let a = f.obligations[j].before, let b = f.obligations[j].after else { continue }
            f.obligations[j].ordering = judge.order(a, b)
        }
        var causes: [TrailEntry] = []
        var seen = Set<Int>()
        let deciding = f.obligations.flatMap { [$0.before, $0.after] }.compactMap { $0 }
        for d in deciding where seen.insert(d.index).inserted {
            var d = d
            // A deciding event the replay met elsewhere (a request's error) is named by the window.
            if d.name == .none, let known = stamp(at: d.index, in: judge.window) { d = known }
            causes.append(TrailEntry(stamp: d, role: role(of: d, in: f)))
        }
        seen.formUnion(f.trail.map(\.stamp.index))
        // The causes of the later deciding events, back to the earliest one:
        // the chain that orders them (earlier history is the trail's).
        let earliest = deciding.map(\.index).min() ?? f.at.index
        for target in deciding.map(\.index).sorted().reversed().prefix(2) {
            for step in judge.window.causalChain(to: target, limit: 8)
            where step.node >= earliest && seen.insert(step.node).inserted {
                guard let stamp = stamp(at: step.node, in: judge.window) else { continue }
                let kinds = step.causes.map(\.kind.name).joined(separator: ", ")
                causes.append(TrailEntry(stamp: stamp, role: kinds.isEmpty ? "cause" : "cause (\(kinds) →)"))
            }
        }
        f.causes = causes
        f.judged = true
        findings[i] = f
        tape.record(f, at: now.index)
    }

    func role(of s: Stamp, in f: PendingFinding) -> String {
        for o in f.obligations {
            if o.before?.index == s.index { return o.beforeRole }
            if o.after?.index == s.index { return o.afterRole }
        }
        return names[s.name]
    }

    /// The stamp of event `i` as the window remembers it.
    func stamp(at i: Int, in window: HappensBeforeWindow) -> Stamp? {
        guard let ts = window.timestamp(i), let cpu = window.cpu(i), let pid = window.pid(i), let tag = window.tag(i) else { return nil }
        return Stamp(index: i, timestamp: ts, cpu: cpu, pid: pid, name: EventName(id: tag))
    }

    /// The end of the trace: what is still awaited never happened in it.
    /// A write fault still held (its task showed no event after it) cannot
    /// tell whether its store waited for the folio's writeback: it becomes
    /// an inconclusive finding, never nothing.
    mutating func finishPending(_ judge: OrderJudge) {
        // A held write_begin whose task shows nothing more never copied its data.
        for (pid, held) in heldStores.sorted(by: { $0.key < $1.key }) where !held.waited && !held.writeBegin {
            guard state.superblocks[held.folio.inode.dev]?.stableWrites == true else { continue }
            let v = RuleViolation(
                rule: .unstablePageWrite, dev: held.folio.inode.dev, inode: held.folio.inode,
                range: state.blocks(of: held.folio), folio: held.folio,
                transition: .ext4PageMkwrite(task: Int(pid), held.folio),
                detail: "a write fault found the folio under writeback on a device that requires stable writes")
            var p = PendingFinding(violation: v, at: held.fault, trail: [TrailEntry(stamp: held.fault, role: "write fault on a folio under writeback")],
                                   obligations: [Obligation(before: writebackStarted[held.folio], beforeRole: "the folio's writeback started",
                                                            after: held.fault, afterRole: "the write fault")])
            p.undecidable = "task \(pid) shows no event after its write fault at event #\(held.fault.index): whether its store waited for the writeback (folio_wait_stable) cannot be told from the trace"
            findings.append(p)
        }
        heldStores = [:]
        for i in findings.indices where !findings[i].judged {
            for j in findings[i].obligations.indices where findings[i].obligations[j].awaiting != nil {
                findings[i].obligations[j].afterRole += " (never, up to the end of the trace)"
            }
            judgeFinding(i, judge)
        }
        waitingFindings = false
    }

    /// Keeps what the verdicts need to know of an applied transition.
    mutating func recordDecidingEvents(_ t: Transition) {
        switch t {
        case .ext4IoSubmit(_, let io):
            if ioEndEvents[io]?.submitted == nil {
                ioEndEvents[io, default: IoEndEvents()].submitted = now
                keyed(io)
            }
        case .ext4EndBio(let bio, let error):
            if error, ioEndEvents[bio.ioEnd]?.failed == nil {
                ioEndEvents[bio.ioEnd, default: IoEndEvents()].failed = failedBy ?? now
                ioEndEvents[bio.ioEnd]!.failedError = failedError
                keyed(bio.ioEnd)
            }
            if state.ioEnd(bio.ioEnd)?.dataOnDisk == true { ioEndEvents[bio.ioEnd, default: IoEndEvents()].completed = now }
        case .ext4BioWriteFolio(_, let folio):
            writebackStarted[folio] = now
        default: break
        }
    }
}
