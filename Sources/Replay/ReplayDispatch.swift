import EventGraph
import KernelEvents
import TraceIO
import WritebackModel

/// What every profile's replay shares: the event graph's bindings (read,
/// never re-derived: inode objects, bios, work items), the happens-before
/// window the verdicts ask, the file systems seen. Each event is decoded
/// (by the `ReplayFrontEnd`) and bound (by the `ReplayBinder`) once and
/// handed to every profile being tried.
struct ReplayDispatcher {
    var front: ReplayFrontEnd
    var binder: ReplayBinder
    var reliability: TraceReliability { front.reliability }
    var comms: [Int32: String] { front.comms }
    var events: Int { front.events }
    /// File systems: devices ext4 events name (or the recording names).
    /// Only grows (see `noteFileSystem`).
    private(set) var fsDevices: Set<DeviceNumber> = []
    /// The file system the last ext4 event named: nearly every event is
    /// about it, and comparing spares hashing the device twice an event.
    private var recentDevice: DeviceNumber?
    var blockSizes: [DeviceNumber: UInt64] = [:]
    /// Large folios in the page cache (order > 0, by their first page):
    /// `writeback_dirty_folio` names a folio by its first index only, and
    /// dirtying it dirties every page the model keeps for it.
    var largeFolios: [FolioRef: UInt8] = [:]
    var happensBefore = HappensBeforeWindow()
    /// Findings are judged (their orderings asked of `happensBefore`); a
    /// replay whose caller reports no findings (`diff`) keeps no window.
    var judgesFindings = true
    /// Lost windows as the model's thread meets them (the reading thread's
    /// `reliability` is complete only at the end).
    var losses = LossesSoFar()
    var pid: Int32 = 0
    var replays: [ProfileReplay]
    /// Profiles dropped by `pruneProfiles`: divergences when dropped, at which event count.
    var pruned: [(profile: KernelProfile, divergences: Int, atEvent: Int)] = []

    /// `names`: the front end's (a dispatcher that shares another's events shares its names).
    init(replays: [ProfileReplay], reliability: TraceReliability, metadata: TraceMetadata,
         names: EventNames = EventNames()) {
        self.replays = replays
        for i in self.replays.indices { self.replays[i].names = names }
        front = ReplayFrontEnd(reliability: reliability, names: names)
        binder = ReplayBinder(metadata: metadata)
        if let dev = metadata.recording["dev"].flatMap({ DeviceNumber($0) }) { noteFileSystem(dev) }
    }

    var names: EventNames { front.names.names }

    /// Decodes, binds and applies one record on the calling thread.
    mutating func add(_ record: TraceRecord) {
        guard var decoded = front.decode(record) else { return }
        apply(binder.bind(&decoded))
    }

    /// The records were all read: lost-events records after the last event
    /// reach the graph.
    mutating func finishReading() {
        binder.finish(pendingLost: front.pendingLost)
    }

    mutating func apply(_ prepared: PreparedEvent) {
        let stamp = prepared.stamp
        pid = stamp.pid
        if let lost = prepared.lostBefore {
            losses.add(lost)
            let known = losses
            each { $0.losses = known }
        }
        losses.observe(stamp)
        if judgesFindings { happensBefore.add(stamp.stream, tag: stamp.name.id, edges: prepared.edges) }
        for i in replays.indices {
            replays[i].now = stamp
            // This CPU's completions are over: their adds are done.
            if !replays[i].unconfirmedAdds.isEmpty { replays[i].unconfirmedAdds[stamp.cpu] = nil }
            if !replays[i].pendingAddComplete.isEmpty {
                if stamp.name == .workqueueExecuteStart {
                    // A work item runs: whatever completion queued it did its
                    // ext4_add_complete_io first, whichever CPU it ran on.
                    for cpu in replays[i].pendingAddComplete.keys.sorted() { replays[i].flushAddComplete(cpu: cpu) }
                } else if stamp.name != .sbClearInodeWriteback {
                    replays[i].flushAddComplete(cpu: stamp.cpu)
                }
            }
        }
        // Inode dirtying and journal handles inside `folio_mark_dirty` (decoded
        // as .other / .jbd2) do not show the fault returned.
        var insideFault = false
        switch prepared.event {
        case .other, .jbd2, .sched: insideFault = true
        default: break
        }
        if !insideFault, replays.contains(where: { !$0.heldStores.isEmpty && $0.heldStores[stamp.pid] != nil }) {
            var waitedOn: (inode: ModelInode, pages: Range<UInt64>)? = nil
            if case .writeback(.waitOnWriteback(_, _, let index)) = prepared.event, let inode = traced(prepared.links.inode) {
                // `folio_wait_writeback` names a large folio by its first index.
                waitedOn = (inode, pages(index, largeFolios[FolioRef(inode: inode, index: index)] ?? 0))
            }
            each { $0.taskMoved(waitingOn: waitedOn) }
        }
        switch prepared.links.binding {
        case .workOwnerLearned(let id, .inode(let owner, _)):
            // A run started earlier belongs to this inode (before the event's own step).
            let inode = model(owner)
            each { $0.conversionWorkOwnerLearned(id, inode) }
        default: break
        }
        switch prepared.event {
        case .ext4(let e): ext4(e, prepared.links)
        case .writeback(let e): writeback(e, prepared.links)
        case .filemap(let e): filemap(e, prepared.links)
        case .block(let e): block(e, prepared.links)
        case .workqueue(let e): workqueue(e, prepared.links)
        case .syscall(let e): syscall(e)
        case .other(let syncDevice):
            if stamp.name == .ext4SyncFs, let dev = syncDevice {
                each { $0.syncFs(dev: dev) }
            }
        case .jbd2, .sched: break
        }
        if judgesFindings, replays.contains(where: \.waitingFindings) {
            judgeWaiting(OrderJudge(window: happensBefore, reliability: reliability))
        }
    }

    /// The findings that wait learn of the event just applied, judged by
    /// `judge` (this dispatcher's window, or the one the profile groups of
    /// a `check` share).
    mutating func judgeWaiting(_ judge: OrderJudge) {
        for i in replays.indices where replays[i].waitingFindings { replays[i].resolvePending(judge) }
    }

    /// The end of the trace: findings still waiting for an event are judged
    /// without it (it never came).
    mutating func finishFindings() {
        let judge = OrderJudge(window: happensBefore, reliability: reliability)
        for i in replays.indices { replays[i].finishPending(judge) }
    }

    mutating func each(_ body: (inout ProfileReplay) -> Void) {
        for i in replays.indices { body(&replays[i]) }
    }

    /// `dev` is an ext4 file system of the trace.
    mutating func noteFileSystem(_ dev: DeviceNumber) {
        guard dev != recentDevice else { return }
        fsDevices.insert(dev)
        recentDevice = dev
    }

    func model(_ id: InodeID) -> ModelInode { ModelInode(dev: id.dev, ino: id.ino, generation: id.generation) }

    /// The model's inode of an event on a traced file system; nil for an
    /// event about none, or about another file system's inode.
    func traced(_ id: InodeID?) -> ModelInode? {
        // No ext4 inode has number 0: the file system's block device's own
        // page cache does (5.10 freezing marks its superblock buffer's page
        // dirty: `writeback_dirty_page name=7:0 ino=0`).
        guard let id, id.ino != 0, id.dev == recentDevice || fsDevices.contains(id.dev) else { return nil }
        return model(id)
    }

    mutating func ext4(_ e: Ext4Event, _ links: ReplayLinks) {
        if let ref = e.inode { noteFileSystem(ref.dev) }
        guard let id = links.inode else { return }
        let inode = model(id)
        if case .allocateInode = e {
            each { $0.allocateInode(inode) }
            return
        }
        switch e {
        case .writeBegin(_, let pos, _): each { $0.writeBegin(inode, pos: pos) }
        case .writeEnd: each { $0.writeEnd(inode) }
        case .writepages(_, let mode): each { $0.writepages(inode, syncAll: mode == 1) }
        case .writepagesResult: each { $0.writepagesResult(inode) }
        case .writeFoliosStart(_, let pos, let mode): each { $0.writeFoliosStart(inode, startPos: pos, syncAll: mode == 1) }
        case .writeFoliosEnd: each { $0.writeFoliosEnd(inode) }
        case .writePagesExtent(_, let lblk, let len, let flags):
            each { $0.spanMapped(BlockRange(lblk: lblk, len: len), unwritten: flags.contains(.unwritten)) }
        case .mapBlocksEnter(_, let lblk, let len, let flags):
            if flags.contains(.convert) { each { $0.conversionSeen(inode, BlockRange(lblk: lblk, len: len)) } }
        case .mapBlocksExit(_, let flags, let extent, let result, _):
            if flags.contains(.ioSubmit), !flags.contains(.convert) {
                each { $0.spanMapped(BlockRange(lblk: extent.lblk, len: extent.len), unwritten: result.contains(.unwritten), pblk: extent.pblk) }
            }
        case .syncFileEnter(_, let datasync): each { $0.syncFileEnter(inode, datasync: datasync) }
        case .syncFileExit(_, let ret): each { $0.syncFileExit(inode, ret: ret) }
        case .punchHole(_, let offset, let len):
            // The blocks the hole touches, and those wholly inside it
            // (`first_block` rounded up, `stop_block` rounded down).
            let bs = blockSize(inode.dev)
            let start = UInt64(max(0, offset)), stop = start + UInt64(max(0, len))
            let first = start / bs, end = (stop + bs - 1) / bs
            let freedFirst = (start + bs - 1) / bs, freedEnd = max(freedFirst, stop / bs)
            each { $0.punchHole(inode, range: BlockRange(lblk: first, len: end - first),
                                freed: BlockRange(lblk: freedFirst, len: freedEnd - freedFirst)) }
        case .removeSpace(_, let start, _): each { $0.removeSpace(inode, start: start) }
        case .fallocateEnter, .truncateEnter, .zeroRange, .collapseRange, .insertRange:
            each { $0.inFileOperation.insert($0.now.pid) }
        case .truncateExit, .fallocateExit:
            each { $0.removalEnded() }
        case .evictInode(_, let nlink): each { $0.evictInode(inode, nlink: nlink) }
        case .freeInode: each { $0.freeInode(inode) }
        default: break
        }
    }

    /// Block size of a file system: from the replays' superblock (folio size
    /// over blocks per folio); 4096 until the trace shows otherwise.
    func blockSize(_ dev: DeviceNumber) -> UInt64 {
        let per = replays.first?.state.superblocks[dev]?.blocksPerFolio ?? 1
        return pageSize / (per == 0 ? 1 : per)
    }

    mutating func writeback(_ e: WritebackEvent, _ links: ReplayLinks) {
        guard let inode = traced(links.inode) else { return }
        switch e {
        case .dirtyFolio(_, _, let index):
            let order = largeFolios[FolioRef(inode: inode, index: index)] ?? 0
            for page in pages(index, order) { each { $0.dirtyFolio(FolioRef(inode: inode, index: page)) } }
        case .clearInodeWriteback:
            each { $0.inodeWritebackCleared(inode) }
        case .markInodeWriteback:
            each { $0.inodeWritebackMarked(inode) }
        case .waitOnWriteback:
            break
        }
    }

    mutating func filemap(_ e: FilemapEvent, _ links: ReplayLinks) {
        guard let inode = traced(links.inode) else { return }
        switch e {
        case .addToPageCache(_, let index, let order):
            if order > 0 { largeFolios[FolioRef(inode: inode, index: index)] = UInt8(order) }
            for page in pages(index, order) { each { $0.folioAdded(FolioRef(inode: inode, index: page)) } }
        case .deleteFromPageCache(_, let index, let order):
            if order > 0 { largeFolios[FolioRef(inode: inode, index: index)] = nil }
            for page in pages(index, order) { each { $0.folioDeleted(FolioRef(inode: inode, index: page)) } }
        case .fault, .getPages:
            break
        }
    }

    /// The pages of a large folio: the model keeps one folio per page
    /// (bios and writeback count pages), so an order-9 folio leaving or
    /// entering the page cache is 512 of them.
    func pages(_ index: UInt64, _ order: UInt8) -> Range<UInt64> {
        index..<(index + (1 << UInt64(min(order, 20))))
    }

    /// Bios as the event graph bound them: a write bio of a traced inode,
    /// the bios a request issue carries, the bios a completion finished.
    mutating func block(_ e: BlockEvent, _ links: ReplayLinks) {
        switch (e, links.binding) {
        case (.bioQueue(let io), .bioQueued(let bio)):
            guard io.rwbs.operation == .write, let owner = traced(bio.owner) else { return }
            learnBlockSize(owner.dev, bio.blockSize)
            each { $0.bioQueued(bio, owner: owner) }
        case (_, .bioIssued(let bios)):
            each { $0.requestIssued(bios) }
        case (_, .bioCompleted(let done)):
            each { $0.biosCompleted(done) }
        default: break
        }
    }

    /// The file system's block size, once the graph has derived it: the
    /// model's folios cover pageSize/blockSize blocks.
    mutating func learnBlockSize(_ fs: DeviceNumber, _ size: UInt64?) {
        guard let size, size >= 512, size <= pageSize, blockSizes[fs] != size else { return }
        blockSizes[fs] = size
        let per = pageSize / size
        each {
            $0.mount(fs)
            $0.learn(.blockSize(fs, blocksPerFolio: per))
            $0.blockSizeKnown.insert(fs)
        }
    }

    /// ext4's conversion work, as the graph bound it to an inode. A work
    /// item the graph could not tie to a traced inode is another file
    /// system's: it is never taken for one of ours.
    mutating func workqueue(_ e: WorkqueueEvent, _ links: ReplayLinks) {
        guard e.key.function == ReplayFrontEnd.conversionWork else { return }
        switch links.binding {
        case .workQueued(_, let owner, let address):
            let inode = ownerInode(owner)
            each { $0.conversionWorkQueued(address, inode) }
        case .workStarted(let id, let owner, let address):
            let inode = ownerInode(owner)
            each { $0.conversionWorkStarted(id, inode, address: address) }
        case .workEnded(let id, let owner):
            let inode = ownerInode(owner)
            each { $0.conversionWorkEnded(id, inode) }
        default: break
        }
    }

    func ownerInode(_ owner: WorkOwner) -> ModelInode? {
        if case .inode(let id, _) = owner { return traced(id) }
        return nil
    }

    mutating func syscall(_ e: SyscallEvent) {
        switch e {
        case .enter(.ioctl, let args):
            if args.ioctl == .freeze { each { $0.freezeEntered(dev: nil) } }
            if args.ioctl == .thaw { each { $0.thawEntered() } }
        case .exit(.ioctl, let ret):
            each {
                if $0.freezeEnter[$0.now.pid] != nil { $0.freezeReturned(ret: ret) } else { $0.thawReturned() }
            }
        case .exit(.fallocate, _), .exit(.ftruncate, _):
            // The syscall returned, whatever page-cache steps it showed: a
            // punch inside one folio only invalidates part of it, one past
            // EOF returns at once (6.18 ext4_punch_hole), and punch has no
            // ext4_fallocate_exit of its own.
            each { $0.removalEnded() }
        default: break
        }
    }
}

extension ReplayDispatcher {
    /// Keeps only the replays that rank first so far (best fit, `ProfileSelection.ranked`).
    mutating func pruneProfiles(atEvent events: Int) {
        guard replays.count > 1, let best = ProfileSelection.ranked(replays).first else { return }
        pruned += replays.filter { !ProfileSelection.fitsAsWell($0, as: best) }.map { ($0.profile, $0.divergenceCount, events) }
        replays = replays.filter { ProfileSelection.fitsAsWell($0, as: best) }
    }
}
