import TraceIO

// A trace is what happened: where it shows a step the model refuses, a
// replay takes the step anyway and counts the disagreement. How the state
// is made to agree with the trace is the model's knowledge, kept here next
// to the guards it overrules.

/// What the model assumed to take a step it had refused.
public enum Assumption: Hashable, Sendable {
    /// The kernel went past a wait this profile blocks in; the state is as
    /// it was (the freeze, the writeback, the pending io_ends stay).
    case didNotWait(Blocker)
    /// The task's operation ended unseen; what it held is released.
    case operationEnded(task: Int)
    /// The inode existed, live, before the trace named it.
    case inodeExisted(InodeRef)
    /// The inode was live (its allocation or the end of its eviction was not seen).
    case inodeLive(InodeRef, was: InodeLifecycle)
    case mutexReleased(InodeRef, holder: Int)
    /// The folios' locks had been released.
    case foliosUnlocked([FolioRef])
    /// The folios' writeback had ended.
    case writebackEnded([FolioRef])
    /// The worker's previous run ended unseen.
    case workerRunEnded(DeviceNumber, InodeRef)
    /// The work was queued unseen.
    case workQueued(ConversionWork)
    /// An earlier freeze ended unseen (FITHAW or a failed FIFREEZE not recorded).
    case freezeEnded(DeviceNumber, was: FreezeLevel)
    /// The tasks that held the inode finished their operations unseen.
    case referencesDropped(InodeRef, tasks: [Int])
    /// The task's writeback pass ended unseen (its open io_end, locked folio
    /// and io_end reference are dropped).
    case writebackPassEnded(task: Int)
    /// The task's operation went through its earlier steps unseen.
    case stepReached(task: Int)
}

/// A refused transition taken anyway (`WritebackModel.force`).
public struct Forced: Hashable, Sendable {
    /// What the model assumed, in order. It stays in the state even when
    /// the step could not be taken in the end.
    public var assumed: [Assumption]
    /// The rules the step broke; nil if it was not taken.
    public var violations: [RuleViolation]?
    /// What still blocks the step when it was not taken: a blocker not in
    /// the kinds allowed, or one the model cannot clear.
    public var blocker: Blocker?
}

extension WritebackModel {
    /// Takes `refusal.transition` past the blockers of the given kinds: each
    /// one is cleared the way `overrule` documents (or its wait passed), and
    /// the step is tried again, until it is taken or a blocker remains that
    /// is not allowed or cannot be cleared.
    public func force(_ refusal: NotEnabled, past kinds: Set<Blocker.Kind>,
                      in state: inout ModelState) -> Forced {
        let t = refusal.transition
        var blocker = refusal.blocker
        var passing: Waits = []
        var assumed: [Assumption] = []
        var cleared: Set<Blocker> = []
        while kinds.contains(blocker.kind), cleared.insert(blocker).inserted,
              let way = overrule(blocker, in: t, &state) {
            switch way {
            case .pass(let wait):
                passing.insert(wait)
                assumed.append(.didNotWait(blocker))
            case .assume(let assumption):
                assumed.append(assumption)
            }
            do {
                let violations = try apply(t, in: &state, passing: passing)
                return Forced(assumed: assumed, violations: violations, blocker: nil)
            } catch {
                blocker = error.blocker
            }
        }
        return Forced(assumed: assumed, violations: nil, blocker: blocker)
    }

    enum Overruling {
        /// Go past a wait; the state stays.
        case pass(Waits)
        /// The state was changed so; try again.
        case assume(Assumption)
    }

    /// What a trace that shows `t` taken says about `b`: a wait the kernel
    /// went past, or a change the trace did not show. Nil where the model
    /// cannot tell (a missing object, a step of another kernel).
    func overrule(_ b: Blocker, in t: Transition, _ s: inout ModelState) -> Overruling? {
        switch b {
        case .taskBusy(let task):
            endOperation(task, &s)
            return .assume(.operationEnded(task: task))
        case .taskIdle(let task), .taskNotAtStep(let task):
            return reachStep(of: t, task, &s) ? .assume(.stepReached(task: task)) : nil
        case .freezeBlocks(let dev, let level, .freezeSuper):
            // FIFREEZE entered on a frozen fs: the last freeze ended unseen.
            s.superblocks[dev]?.freeze = .unfrozen
            return .assume(.freezeEnded(dev, was: level))
        case .freezeBlocks:
            return .pass(.freezeProtection)
        case .inodeMissing(let inode):
            s.addInode(inode)
            return .assume(.inodeExisted(inode))
        case .inodeNotLive(let inode, let lifecycle):
            s.inodes[inode]?.lifecycle = .live
            return .assume(.inodeLive(inode, was: lifecycle))
        case .inodeReferenced(let inode):
            let holders = s.tasks.filter { $0.key != t.actor.taskID && refers($0.value, to: inode) }.keys.sorted()
            for id in holders { endOperation(id, &s) }
            s.inodes[inode]?.mutexHolder = nil
            return .assume(.referencesDropped(inode, tasks: holders))
        case .mutexHeld(let inode, let holder):
            s.inodes[inode]?.mutexHolder = nil
            return .assume(.mutexReleased(inode, holder: holder))
        case .ioEndsPending:
            return .pass(.ioendCount)
        case .unwrittenPending:
            return .pass(.unwritten)
        case .writerInside, .conversionsPending, .folioDirty:
            guard case .ext4Freeze = t else { return nil }
            return .pass(.freezeSync)
        case .folioLocked(let folio, _):
            let unlocked = foliosWaitedOn(by: t, around: folio, among: \.lockedIndexes, s)
            for f in unlocked { s.updateFolio(f) { $0.lockedBy = nil } }
            return .assume(.foliosUnlocked(unlocked))
        case .folioUnderWriteback(let folio):
            switch t {
            case .ext4DaWriteBegin, .ext4PageMkwrite: return .pass(.stablePages)
            case .ext4Freeze: return .pass(.freezeSync)
            default:
                let ended = foliosWaitedOn(by: t, around: folio, among: \.writebackIndexes, s)
                endWritebackSeen(ended, &s)
                return .assume(.writebackEnded(ended))
            }
        case .writebackNotFinished(let task):
            if case .ext4Freeze = t { return .pass(.freezeSync) }
            endWritebackPass(task, &s)
            return .assume(.writebackPassEnded(task: task))
        case .workerBusy(let dev, let inode):
            if case .ext4Freeze = t { return .pass(.freezeSync) }
            s.superblocks[dev]?.worker = nil
            return .assume(.workerRunEnded(dev, inode))
        case .workNotQueued(let work):
            switch work {
            case .ioEnd(let io):
                guard s.ioEnd(io) != nil else { return nil }
                s.updateIoEnd(io) { $0.workQueued = true }
            case .inode(let inode):
                guard s.inodes[inode] != nil else { return nil }
                s.inodes[inode]!.rsvWorkQueued = true
            }
            return .assume(.workQueued(work))
        case .noFileSystem, .notFrozen, .inodeExists, .inodeNotNew, .folioNotCached, .folioNotUptodate,
             .folioCached, .folioMapped, .folioNotMapped, .pteWritable, .pteNotWritable, .writebackMidFolio,
             .notNextDirtyFolio, .ioEndMissing, .ioEndEmpty, .bioNotQueued, .bioNotInFlight, .ioEndNotCompleted,
             .notNextForWorker, .previousNotReleased, .notJustConverted, .workerHasConversionsLeft, .notInProfile:
            return nil
        }
    }

    /// The folios whose lock or writeback `t` waits on, when it waits on
    /// `folio`: truncate every folio of its range, evict and fsync's wait
    /// every folio of the inode, anything else just `folio` — of those, the
    /// ones in the inode's `indexes` (locked, under writeback), by index.
    /// From the few indexes, not every cached folio: fsync on a file with a
    /// large page cache overrules here at every wait the trace skipped.
    private func foliosWaitedOn(by t: Transition, around folio: FolioRef,
                                among indexes: KeyPath<FolioTable, Set<UInt64>>, _ s: ModelState) -> [FolioRef] {
        func held(_ inode: InodeRef) -> [FolioRef] {
            (s.inodes[inode]?.folios[keyPath: indexes] ?? []).sorted().map { FolioRef(inode: inode, index: $0) }
        }
        switch t {
        case .truncatePagecache(let task):
            guard case .removeBlocks(let p)? = s.tasks[task]?.operation else { break }
            return held(p.inode).filter { s.blocks(of: $0).intersection(p.range) != nil }
        case .truncateInodePagesFinal, .filemapFdatawaitRange:
            return held(folio.inode)
        default:
            break
        }
        return s.inodes[folio.inode]?.folios[keyPath: indexes].contains(folio.index) == true ? [folio] : []
    }

    /// Moves the task, inside the operation `t` continues, to the step `t`
    /// takes: the steps between happened unseen. Only forward, and only for
    /// the operations whose steps are a fixed sequence.
    private func reachStep(of t: Transition, _ task: Int, _ s: inout ModelState) -> Bool {
        guard let op = s.tasks[task]?.operation else { return false }
        switch (t, op) {
        case (.ext4UnwrittenWait, .syncFile(var p)) where p.step != .commit:
            p.step = .unwrittenWait
            s.tasks[task]!.operation = .syncFile(p)
        case (.ext4UnwrittenWait, .removeBlocks(var p)) where p.step != .removeSpace:
            p.step = .unwrittenWait
            s.tasks[task]!.operation = .removeBlocks(p)
        default:
            return false
        }
        return true
    }

    /// Forgets what a task was doing, releasing what it held: `i_mutex`,
    /// the folio its writeback had locked.
    func endOperation(_ task: Int, _ s: inout ModelState) {
        for key in s.inodes.keys where s.inodes[key]!.mutexHolder == task {
            s.inodes[key]!.mutexHolder = nil
        }
        if let f = s.tasks[task]?.writeback?.lockedFolio {
            s.updateFolio(f) { $0.lockedBy = nil }
        }
        s.tasks[task] = nil
    }

    /// The task's writeback pass is over: no io_end open, no folio locked,
    /// no reference held, nothing more to write.
    private func endWritebackPass(_ task: Int, _ s: inout ModelState) {
        guard var c = s.tasks[task]?.writeback else { return }
        if let f = c.lockedFolio { s.updateFolio(f) { $0.lockedBy = nil } }
        c.ioEnd = nil
        c.lockedFolio = nil
        c.ownerReference = nil
        c.toWrite = []
        s.tasks[task]!.writeback = c
    }

    /// PG_writeback cleared on these folios, where the trace proves it
    /// ended; their io_ends still carry them (an io_end's own end of
    /// writeback then finds nothing left to clear).
    func endWritebackSeen(_ folios: [FolioRef], _ s: inout ModelState) {
        for f in folios { s.updateFolio(f) { $0.writeback = false } }
    }
}

extension ActorRef {
    /// The task id, if the actor is a task.
    public var taskID: Int? {
        if case .task(let id) = self { return id }
        return nil
    }
}
