import EventGraph
import KernelEvents
import TraceIO
import WritebackModel



/// Page size of the recording machine. Folio indexes in tracepoints are in
/// pages; x86-64 and arm64 (4k) kernels are what wbreplay records on.
let pageSize: UInt64 = 4096

/// One event as the drivers see it: where it sits in the stream and who ran it.
struct Stamp: Hashable, Sendable {
    var index: Int
    var timestamp: UInt64
    var cpu: Int
    var pid: Int32
    var name: EventName

    /// The same position as the event graph names it.
    var stream: StreamStamp { StreamStamp(index: index, timestamp: timestamp, cpu: cpu, pid: pid) }
}

/// A trail entry: an event and what the model did there.
struct TrailEntry: Hashable, Sendable {
    var stamp: Stamp
    var role: String
}

/// A `ext4_da_write_folios_start` … next span of one task: one io_end (research §4.3).
struct WritebackSpan {
    var inode: ModelInode
    /// Byte position of the next folio the span may take.
    var cursor: UInt64
    /// Block ranges the span mapped, and whether the mapping was unwritten.
    var mapped: [(BlockRange, unwritten: Bool, pblk: UInt64?)] = []
    var start: Stamp
    /// Folios put under writeback since the span's last bio, before the
    /// bio carrying them was queued (`sb_mark_inode_writeback`).
    var started: [UInt64] = []
    /// The io_end the span's bios go out with: ≥3.11 one pass of the
    /// mapping loop builds one io_end over all the bios of its extent
    /// (`ext4_do_writepages`: "For each extent of pages we use new io_end").
    var ioEnd: IoEndRef?
}

extension WritebackSpan {
    /// The folio indexes of the blocks the span mapped.
    func mappedPages(blocksPerFolio: UInt64) -> Set<UInt64> {
        let per = max(1, blocksPerFolio)
        return Set(mapped.flatMap { m in
            m.0.len == 0 ? [] : Array((m.0.lblk / per)...((m.0.end - 1) / per))
        })
    }
}

/// A write fault, or a buffered write's `ext4_da_write_begin`, held at
/// `folio_wait_stable` (see `taskMoved`).
struct HeldStore {
    /// The faulted folio as `folio_wait_writeback` names it: its first
    /// page; of a write_begin, the page the write goes to.
    var folio: FolioRef
    /// Every page of that folio the fault dirtied (a large folio: all of
    /// them, from one `writeback_dirty_folio`).
    var pages: [FolioRef]
    var waited: Bool
    /// The write fault (`writeback_dirty_folio` of a task) or the write_begin.
    var fault: Stamp
    /// An `ext4_da_write_begin`, not a write fault: the held step is the
    /// write_begin itself (the copy comes at its write_end).
    var writeBegin = false
}

/// A conversion work item running on a kworker.
struct WorkRun {
    /// The work item, as the event graph names it.
    var work: WorkID
    /// Its work struct's address (`i_rsv_conversion_work`, in the inode).
    var address: UInt64
    var start: Stamp
    /// The inode the graph tied it to (nil until it does).
    var inode: ModelInode?
    /// io_ends this run converted (CONVERT seen), in order.
    var converted: [IoEndRef] = []
    /// The event at which the model let the run take the inode's list
    /// (≥3.11: a moment after it started, under `i_completed_io_lock`; the
    /// trace shows when only by what follows — see `ProfileReplay.takeList`).
    var takenAt: Int?
    /// The io_ends completions put on a conversion list while the run had
    /// not taken it, and at which event.
    var adds: [(index: Int, io: IoEndRef)] = []
    /// The completion whose `workqueue_queue_work` of this work proved the
    /// list empty before the run's take showed.
    var requeuedFrom: Int?
    /// io_ends whose add was still unconfirmed at the run's take (see
    /// `ProfileReplay.unconfirmedAdds`): left for the next run unless this
    /// one converts them.
    var leftUnconfirmed: Set<IoEndRef> = []
}

/// A rule the model saw broken. Its verdict waits until every event it
/// depends on is known (`Obligation`: the conversion that came too late,
/// the end of a writeback …) or the trace ends, and is decided while the
/// happens-before window still holds those events.
struct PendingFinding {
    var violation: RuleViolation
    var at: Stamp
    var trail: [TrailEntry]
    var obligations: [Obligation]
    /// The deciding events and their causes (happens-before chains), for the witness.
    var causes: [TrailEntry] = []
    var judged = false
    /// Why the trace cannot decide this finding whatever the orderings
    /// (a fault whose task shows no later event).
    var undecidable: String?
}

/// The replay of a trace against one kernel profile: a model state driven
/// event by event, with the invisible transitions inferred from their
/// bounds. Where the trace shows something the model would not do, the
/// replay records a `Divergence`, makes the state agree with the trace
/// (the trace is what happened), and goes on.
struct ProfileReplay {
    /// Changed only by `rebase`, for a replay that stands for several profiles.
    private(set) var model: WritebackModel
    var state = ModelState()
    let stableWrites: Bool
    var divergenceCount = 0
    var divergences: [Divergence] = []
    /// Objects seen and diverging, per kind (`diff`).
    var conformance = ObjectConformance()
    /// The first divergence of each object kind.
    var firstDivergence: [ReplayObjectKind: Divergence] = [:]
    /// Lifecycles of io_ends, fsyncs and block changes (`diff A B`), if asked.
    var lifecycles: LifecycleRecorder?
    var findings: [PendingFinding] = []
    /// Some finding still waits for an event (`resolvePending` after each event).
    var waitingFindings = false
    /// Judgements since the group's checkpoint (`check` in profile groups).
    var tape = JudgementTape()
    /// The deciding events of io_ends and folios the model still tracks.
    var ioEndEvents = InodeScopedTable<IoEndRef, IoEndEvents>()
    var writebackStarted = InodeScopedTable<FolioRef, Stamp>()
    /// While a completion's bio ends: the completion that reported its error.
    var failedBy: Stamp?
    var failedError: Int64 = 0
    var trails = InodeScopedTable<IoEndRef, [TrailEntry]>()
    var spans: [Int32: WritebackSpan] = [:]
    /// Bios of the model's io_ends, by the event graph's bio identity.
    var liveBios: [BioID: BioRef] = [:]
    var runs: [Int32: WorkRun] = [:]
    /// Per CPU, the io_ends the last completion on it put on a conversion
    /// list (`ext4_add_complete_io`; none: empty), and at which event.
    var recentAdds: [Int: (index: Int, ios: [IoEndRef])] = [:]
    /// Per CPU, the io_ends whose bios the latest completion there finished.
    var recentCompletions: [Int: [IoEndRef]] = [:]
    /// ≥3.11, per CPU: the io_ends the last completion on it put on a
    /// conversion list while that CPU has shown no later event, so the
    /// trace does not yet say the add is done (see `takeList`).
    var unconfirmedAdds: [Int: [IoEndRef]] = [:]
    /// ≤3.10: io_ends whose `ext4_add_complete_io` is still to come on this CPU.
    var pendingAddComplete: [Int: [IoEndRef]] = [:]
    var syncEnter: [Int32: Stamp] = [:]
    /// Blocks the model converted inside a caller's `ext4_flush_completed_IO`
    /// (≤3.7), which the trace did not show there.
    var flushConverted: [ModelInode: [BlockRange]] = [:]
    /// io_ends whose conversion the trace showed outside the profile's
    /// order (`forceConversion`): their phase waits for later steps.
    var conversionSeenOutOfOrder = InodeScopedTable<IoEndRef, Bool>()
    /// Per inode, how many io_ends it had freed (`InodeState.ioEndsFreed`)
    /// when `pruneTrails` last walked its io_end tables; none: walk them
    /// at the next pruning (an entry for an io_end the model does not
    /// hold, an inode the model dropped or made anew).
    var prunedAtFreed: [ModelInode: Int] = [:]
    /// CONVERTs a task made itself (inline, or a ≤3.7 flush), since its fsync / truncate began.
    var taskConversions: [Int32: [BlockRange]] = [:]
    var freezeEnter: [Int32: (Stamp, DeviceNumber?)] = [:]
    /// Write faults and write_begins on a folio under writeback (stable
    /// device) held until the task's next event: did it wait for the writeback?
    var heldStores: [Int32: HeldStore] = [:]
    /// The index of the last event that showed a conversion (CONVERT).
    var convertEventAt = -1
    /// Tasks inside fallocate, punch, zero range or truncate: there the
    /// kernel dirties folios itself (6.18 `ext4_block_zero_page_range` on
    /// the EOF block, `pagecache_isize_extended`), not a store through a PTE.
    var inFileOperation: Set<Int32> = []
    var frozenAt: [DeviceNumber: Stamp] = [:]
    /// The trace's lost windows so far (the dispatcher keeps it current):
    /// where an event the model waits for may be missing.
    var losses = LossesSoFar()
    var history: HistoryRecorder?
    /// File systems whose block size the trace has shown (the dispatcher sets it).
    var blockSizeKnown: Set<DeviceNumber> = []
    /// The event being replayed.
    var now = Stamp(index: 0, timestamp: 0, cpu: 0, pid: 0, name: .none)
    /// The names behind `Stamp.name`, shared with the dispatcher's front end.
    var names = EventNames()

    static let divergenceExamples = 200

    init(profile: KernelProfile, stableWrites: Bool, historyInode: UInt64?, historyObjects: Set<String>? = nil) {
        model = WritebackModel(profile: profile)
        self.stableWrites = stableWrites
        if let ino = historyInode { history = HistoryRecorder(ino: ino, objects: historyObjects) }
    }

    var profile: KernelProfile { model.profile }

    /// The same replay as `profile`'s (`ProfileGroups`: the two read the
    /// same answer from every trait this replay asked), noting the traits
    /// it reads from now on in `log`.
    mutating func rebase(onto profile: KernelProfile, log: TraitLog?) {
        model = WritebackModel(profile: profile, log: log)
        // Only a replay that may still part records its judgements.
        if log == nil { tape.stopRecording() }
    }
    /// What the replay reads of its profile's behaviour.
    var traits: KernelTraits { model.traits }

    // MARK: Driving

    /// Applies `t`; on `NotEnabled` records the divergence and has the
    /// model take the step anyway past the blockers the trace overrules
    /// (`WritebackModel.force`): those of `past`, and always a task whose
    /// last operation ended unseen, an inode that existed or was live, an
    /// `i_mutex` released. Returns whether the transition was applied.
    @discardableResult
    mutating func drive(_ t: Transition, object: @autoclosure () -> String = "",
                        past: Set<Blocker.Kind> = []) -> Bool {
        do {
            let v = try model.apply(t, in: &state)
            applied(t, v)
            return true
        } catch {
            if takeHiddenSteps(enabling: t), let v = try? model.apply(t, in: &state) {
                applied(t, v)
                return true
            }
            diverge(t, object: object(), reason: error.reason)
            guard let v = model.force(error, past: past.union(Self.alwaysOverruled), in: &state).violations else {
                return false
            }
            applied(t, v)
            return true
        }
    }

    /// Has the model take the hidden steps after which `t` is enabled
    /// (`WritebackModel.takeHiddenSteps`): steps of the kernel no event
    /// shows, placed where the trace needs them — no divergence. Returns
    /// whether it took any.
    @discardableResult
    mutating func takeHiddenSteps(enabling t: Transition) -> Bool {
        noteHidden(model.takeHiddenSteps(enabling: t, in: &state))
    }

    /// Notes each hidden step on its object's trail; whether there were any.
    @discardableResult
    mutating func noteHidden(_ hidden: [HiddenStep]) -> Bool {
        for step in hidden {
            switch step {
            case .submitterPutBeforeCompletion(let task, let io, let takenByRun):
                note(io, "ext4_put_io_end by task \(task) before the bio completed: ext4_end_bio's put was the last and queued the io_end"
                     + (takenByRun ? ", before the worker took the list" : ""))
            }
        }
        return !hidden.isEmpty
    }

    /// What the trace overrules wherever the model refuses a step: the
    /// task's previous operation, the inode's existence and life, `i_mutex`
    /// (their ends and beginnings are what lost or unrecorded events hide).
    static let alwaysOverruled: Set<Blocker.Kind> = [.taskBusy, .inodeMissing, .inodeNotLive, .mutexHeld]

    mutating func diverge(_ t: Transition, object: String, reason: String) {
        let which = self.object(of: t)
        let expected = model.enabledTransitions(in: state, actors: [t.actor]).map(\.kernelFunction)
        let name = object.isEmpty ? which.key : object
        record(Divergence(eventIndex: now.index, timestamp: now.timestamp, kernelFunction: t.kernelFunction,
                          kind: which.kind, object: name, reason: reason,
                          expected: expected.isEmpty ? ["nothing: \(t.actor) has no step enabled"] : expected,
                          observed: "\(names[now.name]) → \(t.kernelFunction)"), object: which)
    }

    func object(of t: Transition) -> ReplayObject {
        if case .task(let id) = t.actor { return ReplayObject.of(t, fsyncStart: syncEnter[Int32(id)]?.index) }
        return ReplayObject.of(t)
    }

    /// Counts a divergence against its object and keeps the first examples.
    mutating func record(_ d: Divergence, object: ReplayObject) {
        var d = d
        d.inode = d.inode ?? object.inode
        d.historyLabel = d.historyLabel ?? object.historyLabel
        divergenceCount += 1
        conformance.diverged(object)
        if firstDivergence[object.kind] == nil { firstDivergence[object.kind] = d }
        if divergences.count < Self.divergenceExamples { divergences.append(d) }
    }

    /// Makes the state agree with a fact the trace shows.
    mutating func learn(_ fact: TraceFact) {
        model.learn(fact, in: &state)
    }

    /// Forgets what a task was doing, releasing what it held.
    mutating func releaseTask(_ id: Int) {
        learn(.operationEnded(task: id))
    }

    mutating func applied(_ t: Transition, _ violations: [RuleViolation]) {
        recordDecidingEvents(t)
        history?.record(t, state: state, at: now)
        if let kind = ReplayObject.born(by: t) { conformance.born(kind) }
        if lifecycles != nil {
            let o = object(of: t)
            lifecycles!.record(t, object: o, at: now.timestamp, ended: lifeEnded(t, o))
        }
        for v in violations { recordViolation(v) }
    }

    mutating func recordViolation(_ v: RuleViolation) {
        var trail: [TrailEntry] = []
        if let io = v.ioEnd {
            trail += trails[io] ?? []
        } else if let folio = v.folio, let serial = state.inodes[folio.inode]?.ioEnds.first(where: { $0.value.folios.contains(folio.index) })?.key {
            // A folio rule: the io_end writing the folio shows its writeback.
            trail += trails[IoEndRef(inode: folio.inode, serial: serial)] ?? []
        }
        if case .task(let id) = v.transition.actor {
            if let s = syncEnter[Int32(id)] { trail.append(TrailEntry(stamp: s, role: "ext4_sync_file entered")) }
        }
        if v.rule == .writeWhileFrozen, let f = frozenAt[v.dev] {
            trail.append(TrailEntry(stamp: f, role: "FIFREEZE returned: the file system is frozen"))
        }
        trail.append(TrailEntry(stamp: now, role: "\(v.transition.kernelFunction): \(v.rule)"))
        var pending = PendingFinding(violation: v, at: now, trail: trail, obligations: obligations(for: v))
        if v.rule == .conversionAfterIOError, convertEventAt != now.index {
            // Only a CONVERT in the trace proves the blocks were converted:
            // where the model converts at a put or a run's end, the kernel
            // may have left the io_end to its worker, which skips FAILED
            // io_ends on kernels with e856f93e0fb2 (backported to stable).
            pending.undecidable = "the trace shows no CONVERT of these blocks: the model converts the failed io_end at \(v.transition.kernelFunction) (event #\(now.index)), which the trace cannot confirm"
        }
        findings.append(pending)
        waitingFindings = true
    }

    /// A per-io_end table got an entry for `io`: if the model does not
    /// hold it, the next pruning of its inode must walk the tables.
    mutating func keyed(_ io: IoEndRef) {
        if state.ioEnd(io) == nil { prunedAtFreed[io.inode] = nil }
    }

    /// The io_end's trail grows.
    mutating func note(_ io: IoEndRef, _ role: String) {
        if state.ioEnd(io) != nil || trails[io] != nil {
            trails[io, default: []].append(TrailEntry(stamp: now, role: role))
            if trails[io]!.count > 12 { trails[io]!.remove(at: 1) }
        }
    }

    /// Drops trails and deciding events of io_ends the model released, and
    /// of folios whose writeback ended (memory stays with live objects).
    /// `freeing`: io_ends the caller's step may have freed.
    ///
    /// The io_end tables are walked only when an io_end left the inode
    /// since their last walk (`prunedAtFreed`) that is not among `freeing`:
    /// where the model keeps io_ends live — a profile the trace does not
    /// fit, lost events — a walk at every completion cost every io_end the
    /// inode holds, to drop the one the completion freed.
    mutating func pruneTrails(of inode: ModelInode, freeing candidates: [IoEndRef] = []) {
        let model = state.inodes[inode]
        let live = model?.ioEnds ?? [:]
        // By key: `live[serial] == nil` copied each io_end's state to test it.
        func released(_ serial: Int) -> Bool { live.index(forKey: serial) == nil }
        if let freed = model?.ioEndsFreed, let walked = prunedAtFreed[inode], freed - walked <= candidates.count {
            // Since the last walk, entries went only to io_ends the model
            // held (`keyed`): an io_end with entries that the model no
            // longer holds was freed since, and if as many candidates were
            // as the count says, no other io_end was.
            var gone: Set<Int> = []
            for io in candidates where io.inode == inode && released(io.serial)
                && (trails[io] != nil || ioEndEvents[io] != nil || conversionSeenOutOfOrder[io] != nil) {
                gone.insert(io.serial)
            }
            if gone.count == freed - walked {
                for serial in gone {
                    let io = IoEndRef(inode: inode, serial: serial)
                    trails[io] = nil
                    ioEndEvents[io] = nil
                    conversionSeenOutOfOrder[io] = nil
                }
                prunedAtFreed[inode] = freed
                assert(!trails.contains(of: inode, where: released) && !ioEndEvents.contains(of: inode, where: released)
                       && !conversionSeenOutOfOrder.contains(of: inode, where: released),
                       "an io_end left \(inode) unseen by its freed count")
                pruneWritebackStarted(of: inode)
                return
            }
        }
        trails.removeAll(of: inode, where: released)
        ioEndEvents.removeAll(of: inode, where: released)
        conversionSeenOutOfOrder.removeAll(of: inode, where: released)
        prunedAtFreed[inode] = model?.ioEndsFreed
        pruneWritebackStarted(of: inode)
    }

    private mutating func pruneWritebackStarted(of inode: ModelInode) {
        if writebackStarted.count > 64 {
            writebackStarted.removeAll(of: inode) { index in
                state.folio(FolioRef(inode: inode, index: index))?.writeback != true
            }
        }
    }

    // MARK: Objects

    mutating func mount(_ dev: DeviceNumber) {
        guard state.superblocks[dev] == nil else { return }
        // The default mount options but dioread_nolock's, which the model
        // reads from the profile where a step needs it (`SuperblockState.dioreadNolock`).
        state.mount(dev, SuperblockState(stableWrites: stableWrites, dioreadNolock: nil))
    }

    /// Makes sure the inode exists: an inode seen first mid-trace existed
    /// before the trace began.
    mutating func ensure(_ inode: ModelInode) {
        mount(inode.dev)
        if state.inodes[inode] == nil {
            state.addInode(inode)
            conformance.born(.inode)
        }
    }

    mutating func ensureFolio(_ folio: FolioRef, dirty: Bool = false) {
        ensure(folio.inode)
        if state.folio(folio) == nil { state.addFolio(folio, dirty: dirty) }
    }

    /// Clears PG_writeback where the trace proves it ended (research §4.3 bounds 3–5).
    mutating func endWritebackSeen(_ inode: ModelInode, only indexes: Set<UInt64>? = nil) {
        learn(.writebackEnded(inode, only: indexes))
    }

    func writebackFolios(_ inode: ModelInode) -> Set<UInt64> {
        state.inodes[inode]?.folios.writebackIndexes ?? []
    }
}
