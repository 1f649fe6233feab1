import TraceIO

/// The result of one transition: the next state and the rules it broke.
public struct Step: Hashable, Sendable {
    public var transition: Transition
    public var state: ModelState
    public var violations: [RuleViolation]
}

/// The ext4 io_end / page-writeback state machine as a pure transition
/// system. No trace, no I/O, no printing: state in, transitions and
/// violations out. Replay and exploration both drive this same code.
public struct WritebackModel: Hashable, Sendable {
    public let profile: KernelProfile
    /// The profile's behaviours, as the transitions read them.
    public let traits: KernelTraits

    /// `log`: note the traits the model reads (`TraitLog`).
    public init(profile: KernelProfile, log: TraitLog? = nil) {
        self.profile = profile
        traits = KernelTraits(profile, log: log)
    }

    /// Whether allocation during writeback creates unwritten extents on
    /// `sb`: what the trace showed, else the profile's default (read only
    /// here, so that a replay of several profiles reads it only where a
    /// step depends on it).
    public func dioreadNolock(_ sb: SuperblockState) -> Bool {
        sb.dioreadNolock ?? traits.dioreadNolockByDefault
    }

    /// Applies `transition` if it is enabled, and checks every rule on the
    /// before/after pair.
    public func apply(_ transition: Transition, to state: ModelState) throws(NotEnabled) -> Step {
        var next = state
        if let blocker = perform(transition, on: &next) {
            throw NotEnabled(transition: transition, blocker: blocker)
        }
        let violations = RuleChecker.check(before: state, transition: transition, after: next)
        return Step(transition: transition, state: next, violations: violations)
    }

    /// Whether `transition` can be taken in `state`; nil if so, else what blocks it.
    public func whyNotEnabled(_ transition: Transition, in state: ModelState) -> Blocker? {
        var scratch = state
        return perform(transition, on: &scratch)
    }

    public func isEnabled(_ transition: Transition, in state: ModelState) -> Bool {
        whyNotEnabled(transition, in: state) == nil
    }

    /// Every transition the given actors can take next, in a deterministic
    /// order (actors in the order given, then each actor's candidates in a
    /// fixed order). Tasks contribute the next steps of the operation they
    /// are in; an idle task contributes nothing (what it starts next is the
    /// scenario's or the trace's choice — check it with `isEnabled`). The
    /// block device, the worker and reclaim contribute everything they could
    /// do. Where the kernel has a fixed order (which dirty folio writeback
    /// takes next), only that choice is offered.
    public func enabledTransitions(in state: ModelState, actors: [ActorRef]) -> [Transition] {
        actors.flatMap { candidates(for: $0, in: state) }.filter { isEnabled($0, in: state) }
    }

    /// `enabledTransitions` with the resulting steps, for an explorer that
    /// would otherwise apply each transition twice.
    public func successors(of state: ModelState, actors: [ActorRef]) -> [Step] {
        actors.flatMap { candidates(for: $0, in: state) }.compactMap { try? apply($0, to: state) }
    }

    // MARK: Dispatch

    /// Checks the guard of `t` and, if it holds, mutates `s`. Returns what
    /// blocks it when the guard fails; `s` is then unchanged.
    /// `passing`: waits the trace shows the kernel went past (`force`).
    func perform(_ t: Transition, on s: inout ModelState, passing: Waits = []) -> Blocker? {
        switch t {
        case .ext4NewInode(let task, let i): return ext4NewInode(task, i, &s)
        case .unlockNewInode(let task, let i): return unlockNewInode(task, i, &s)
        case .ext4EvictInode(let task, let i): return ext4EvictInode(task, i, &s)
        case .ext4IoendWait(let task): return ext4IoendWait(task, &s, passing: passing)
        case .truncateInodePagesFinal(let task): return truncateInodePagesFinal(task, &s)
        case .ext4FreeInode(let task): return ext4FreeInode(task, &s)
        case .ext4DaWriteBegin(let task, let f): return ext4DaWriteBegin(task, f, &s, passing: passing)
        case .ext4DaWriteEnd(let task): return ext4DaWriteEnd(task, &s)
        case .ext4PageMkwrite(let task, let f): return ext4PageMkwrite(task, f, &s, passing: passing)
        case .userStore(let task, let f): return userStore(task, f, &s)
        case .filemapFault(let task, let f): return filemapFault(task, f, &s)
        case .zapPteRange(let task, let f): return zapPteRange(task, f, &s)
        case .ext4Fallocate(let task, let i, let r): return ext4Fallocate(task, i, r, &s, passing: passing)
        case .ext4Writepages(let task, let i, let sync): return ext4Writepages(task, i, sync, &s)
        case .mpageSubmitFolio(let task, let f): return mpageSubmitFolio(task, f, &s)
        case .ext4BioWriteFolio(let task, let f): return ext4BioWriteFolio(task, f, &s)
        case .ext4IoSubmit(let task, let io): return ext4IoSubmit(task, io, &s)
        case .ext4PutIoEnd(let task, let io): return ext4PutIoEnd(task, io, &s)
        case .ext4WritepagesResult(let task): return ext4WritepagesResult(task, &s)
        case .blkMqStartRequest(let b): return blkMqStartRequest(b, &s)
        case .ext4EndBio(let b, let error): return ext4EndBio(b, error: error, &s)
        case .ext4AddCompleteIo(let io): return ext4AddCompleteIoStep(io, &s)
        case .ext4EndIoWork(let io): return ext4EndIoWork(io, &s)
        case .ext4EndIoRsvWork(let i): return ext4EndIoRsvWork(i, &s)
        case .ext4ConvertUnwrittenIoEndVec(let io): return ext4ConvertUnwrittenIoEndVec(io, &s)
        case .ext4ReleaseIoEnd(let io): return ext4ReleaseIoEndStep(io, &s)
        case .ext4FreeIoEnds(let i): return ext4FreeIoEnds(i, &s)
        case .ext4SyncFile(let task, let i, let datasync): return ext4SyncFile(task, i, datasync, &s)
        case .filemapFdatawaitRange(let task): return filemapFdatawaitRange(task, &s)
        case .ext4FlushCompletedIO(let task): return ext4FlushCompletedIO(task, &s)
        case .ext4UnwrittenWait(let task): return ext4UnwrittenWait(task, &s, passing: passing)
        case .ext4SyncFileReturn(let task): return ext4SyncFileReturn(task, &s)
        case .ext4Setattr(let task, let i, let size): return ext4Setattr(task, i, size, &s, passing: passing)
        case .ext4PunchHole(let task, let i, let r, let freed):
            return ext4PunchHole(task, i, r, freed: freed ?? r, &s, passing: passing)
        case .truncatePagecache(let task): return truncatePagecache(task, &s)
        case .ext4ExtRemoveSpace(let task): return ext4ExtRemoveSpace(task, &s)
        case .freezeSuper(let task, let d): return freezeSuper(task, d, &s)
        case .ext4Freeze(let task): return ext4Freeze(task, &s, passing: passing)
        case .thawSuper(let task, let d): return thawSuper(task, d, &s)
        case .ext4Unfreeze(let task): return ext4Unfreeze(task, &s)
        case .shrinkFolioList(let f): return shrinkFolioList(f, &s)
        case .ext4ReadFolio(let actor, let f): return ext4ReadFolio(actor, f, &s)
        }
    }
}
