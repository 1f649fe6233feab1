import KernelEvents
import TraceIO
import WritebackModel

/// What every profile's replay shares: inode generations, file systems,
/// geometry. Each event is decoded once (by the `ReplayFrontEnd`) and
/// handed to every profile being tried.
struct ReplayDispatcher {
    var front: ReplayFrontEnd
    var generations = InodeGenerations()
    var reliability: TraceReliability { front.reliability }
    var comms: [Int32: String] { front.comms }
    var events: Int { front.events }
    var fsDevices: Set<DeviceNumber> = []
    /// Block size and partition offset, learned from map → bio pairs.
    var geometry = GeometryEstimator()
    var lastMapped: [Int32: (DeviceNumber, ExtentRange)] = [:]
    var blockSizes: [DeviceNumber: UInt64] = [:]
    var bdiNumbers: [String: DeviceNumber?] = [:]
    var pid: Int32 = 0
    var replays: [ProfileReplay]
    /// Profiles dropped by `pruneProfiles`: divergences when dropped, at which event count.
    var pruned: [(profile: KernelProfile, divergences: Int, atEvent: Int)] = []

    init(replays: [ProfileReplay], reliability: TraceReliability) {
        let names = EventNames()
        self.replays = replays
        for i in self.replays.indices { self.replays[i].names = names }
        front = ReplayFrontEnd(reliability: reliability, names: names)
    }

    var names: EventNames { front.names.names }

    /// Decodes and applies one record on the calling thread.
    mutating func add(_ record: TraceRecord) {
        if let prepared = front.prepare(record) { apply(prepared) }
    }

    mutating func apply(_ prepared: PreparedEvent) {
        let stamp = prepared.stamp
        pid = stamp.pid
        for i in replays.indices {
            replays[i].now = stamp
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
            var waitedOn: FolioRef? = nil
            if case .writeback(.waitOnWriteback(let bdi, let ino, let index)) = prepared.event,
               let dev = device(bdi: bdi) {
                waitedOn = FolioRef(inode: resolve(InodeKey(dev: dev, ino: ino)), index: index)
            }
            each { $0.taskMoved(waitingOn: waitedOn) }
        }
        switch prepared.event {
        case .ext4(let e): ext4(e)
        case .writeback(let e): writeback(e)
        case .filemap(let e): filemap(e)
        case .block(let e): block(e)
        case .workqueue(let e): workqueue(e)
        case .syscall(let e): syscall(e)
        case .other(let syncDevice):
            if stamp.name == .ext4SyncFs, let dev = syncDevice {
                each { $0.syncFs(dev: dev) }
            }
        case .jbd2, .sched: break
        }
    }

    mutating func each(_ body: (inout ProfileReplay) -> Void) {
        for i in replays.indices { body(&replays[i]) }
    }

    func model(_ id: InodeID) -> ModelInode { ModelInode(dev: id.dev, ino: id.ino, generation: id.generation) }

    mutating func resolve(_ key: InodeKey) -> ModelInode {
        fsDevices.insert(key.dev)
        return model(generations.resolve(key))
    }

    /// The file system behind a bdi name ("7:0"): the same number for loop
    /// devices and whole disks; else the only file system seen.
    mutating func device(bdi: String) -> DeviceNumber? {
        // Parsed once per name: every dirtied folio names its bdi.
        let parsed: DeviceNumber?
        if let known = bdiNumbers[bdi] {
            parsed = known
        } else {
            parsed = DeviceNumber(bdi)
            if bdiNumbers.count < 1024 { bdiNumbers[bdi] = parsed }
        }
        if let d = parsed, fsDevices.contains(d) { return d }
        return fsDevices.count == 1 ? fsDevices.first : parsed
    }

    mutating func ext4(_ e: Ext4Event) {
        switch e {
        case .allocateInode(let key):
            fsDevices.insert(key.dev)
            let inode = model(generations.allocate(key))
            each { $0.allocateInode(inode) }
            return
        case .journalStartReserved:
            return
        default: break
        }
        guard let key = e.inode else { return }
        let inode = resolve(key)
        switch e {
        case .writeBegin(_, let pos, _): each { $0.writeBegin(inode, pos: pos) }
        case .writeEnd: each { $0.writeEnd(inode) }
        case .writepages(_, let mode): each { $0.writepages(inode, syncAll: mode == 1) }
        case .writepagesResult: each { $0.writepagesResult(inode) }
        case .writeFoliosStart(_, let pos, let mode): each { $0.writeFoliosStart(inode, startPos: pos, syncAll: mode == 1) }
        case .writePagesExtent(_, let lblk, let len, let flags):
            each { $0.spanMapped(BlockRange(lblk: lblk, len: len), unwritten: flags.contains(.unwritten)) }
        case .mapBlocksEnter(_, let lblk, let len, let flags):
            if flags.contains(.convert) { each { $0.conversionSeen(inode, BlockRange(lblk: lblk, len: len)) } }
        case .mapBlocksExit(_, let flags, let extent, let result, _):
            if extent.len > 0, extent.pblk > 0 { lastMapped[pid] = (inode.dev, extent) }
            if flags.contains(.ioSubmit), !flags.contains(.convert) {
                each { $0.spanMapped(BlockRange(lblk: extent.lblk, len: extent.len), unwritten: result.contains(.unwritten), pblk: extent.pblk) }
            }
        case .syncFileEnter(_, let datasync): each { $0.syncFileEnter(inode, datasync: datasync) }
        case .syncFileExit(_, let ret): each { $0.syncFileExit(inode, ret: ret) }
        case .punchHole(_, let offset, let len):
            let bs = blockSize(inode.dev)
            let first = UInt64(max(0, offset)) / bs
            let end = (UInt64(max(0, offset)) + UInt64(max(0, len)) + bs - 1) / bs
            each { $0.punchHole(inode, range: BlockRange(lblk: first, len: end - first)) }
        case .removeSpace(_, let start, _): each { $0.removeSpace(inode, start: start) }
        case .truncateExit, .fallocateExit: each { $0.removalEnded() }
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

    mutating func writeback(_ e: WritebackEvent) {
        switch e {
        case .dirtyFolio(let bdi, let ino, let index):
            guard let dev = device(bdi: bdi), !isBlockDeviceInode(ino, of: dev) else { return }
            let inode = resolve(InodeKey(dev: dev, ino: ino))
            each { $0.dirtyFolio(FolioRef(inode: inode, index: index)) }
        case .clearInodeWriteback(let key):
            let inode = resolve(key)
            each { $0.inodeWritebackCleared(inode) }
        case .markInodeWriteback(let key):
            guard fsDevices.contains(key.dev) else { return }
            let inode = resolve(key)
            each { $0.inodeWritebackMarked(inode) }
        case .waitOnWriteback:
            break
        }
    }

    /// The block device's own page cache (buffer heads of bitmaps, inode
    /// tables, the journal) shares the bdi: `bdev_alloc` numbers its inode
    /// with the kernel dev_t, `major << 20 | minor`. Its folios are written by
    /// `sync_blockdev`, not by ext4 writeback, so they are not the model's.
    func isBlockDeviceInode(_ ino: UInt64, of dev: DeviceNumber) -> Bool {
        ino == UInt64(dev.major) << 20 | UInt64(dev.minor)
    }

    mutating func filemap(_ e: FilemapEvent) {
        switch e {
        case .addToPageCache(let key, let index, let order):
            guard fsDevices.contains(key.dev) else { return }
            let inode = resolve(key)
            for page in pages(index, order) { each { $0.folioAdded(FolioRef(inode: inode, index: page)) } }
        case .deleteFromPageCache(let key, let index, let order):
            guard fsDevices.contains(key.dev) else { return }
            let inode = resolve(key)
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

    mutating func block(_ e: BlockEvent) {
        switch e {
        case .bioQueue(let io):
            learnGeometry(io)
            each { $0.bioQueued(io) }
        case .requestIssue(let io): each { $0.requestIssued(io) }
        case .requestComplete(let io, let error): each { $0.requestCompleted(io, error: error) }
        default: break
        }
    }

    /// A task mapped an extent and queues the bio that writes it: the
    /// pair votes for the file system's block size (KernelEvents'
    /// GeometryEstimator); the model's folios cover pageSize/blockSize blocks.
    mutating func learnGeometry(_ io: BlockIO) {
        guard io.rwbs.operation == .write, let (fs, extent) = lastMapped.removeValue(forKey: pid) else { return }
        geometry.observe(fs: fs, extent: extent, bio: io.range)
        guard let g = geometry.geometry(of: fs), g.blockSize >= 512, g.blockSize <= pageSize else { return }
        each { $0.geometry[fs] = g }
        guard blockSizes[fs] != g.blockSize else { return }
        blockSizes[fs] = g.blockSize
        let per = pageSize / g.blockSize
        each {
            $0.mount(fs)
            $0.state.superblocks[fs]!.blocksPerFolio = per
        }
    }

    mutating func workqueue(_ e: WorkqueueEvent) {
        let key = e.key
        guard key.function == ReplayFrontEnd.conversionWork else { return }
        switch e {
        case .queue: each { $0.conversionWorkQueued(key.work) }
        case .executeStart: each { $0.conversionWorkStarted(key.work) }
        case .executeEnd: each { $0.conversionWorkEnded() }
        case .activate: break
        }
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
        default: break
        }
    }
}

extension ReplayDispatcher {
    /// Keeps only the replays that rank first so far (best fit, `ProfileSelection.ranked`).
    mutating func pruneProfiles(atEvent events: Int) {
        guard replays.count > 1, let best = ProfileSelection.ranked(replays).first else { return }
        func leads(_ r: ProfileReplay) -> Bool {
            r.conformance.overall == best.conformance.overall && r.divergenceCount == best.divergenceCount
        }
        pruned += replays.filter { !leads($0) }.map { ($0.profile, $0.divergenceCount, events) }
        replays = replays.filter(leads)
    }
}
