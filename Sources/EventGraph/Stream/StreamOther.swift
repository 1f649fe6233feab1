import KernelEvents
import TraceIO

struct SyscallState {
    var open: [Int32: (node: Int, call: Syscall)] = [:]
    var pidsWithEnter: Set<Int32> = []
    var count = 0
}

struct CommitKey: Hashable {
    var dev: DeviceNumber
    var tid: UInt64
}

struct FolioKey: Hashable {
    var inode: InodeID
    var index: UInt64
}

extension GraphStream {
    mutating func handleSyscall(_ e: SyscallEvent, _ s: StreamStamp) -> EventLinks {
        var links = EventLinks()
        switch e {
        case .enter(let call, let args):
            syscalls.open[s.pid] = (s.index, call)
            syscalls.pidsWithEnter.insert(s.pid)
            syscalls.count += 1
            if let cmd = args.ioctl {
                switch cmd {
                case .freeze: links.detail = UInt64(IoctlCommand.fifreeze)
                case .thaw: links.detail = UInt64(IoctlCommand.fithaw)
                case .other(let c): links.detail = UInt64(c)
                }
            }
        case .exit(let call, let ret):
            links.detail = UInt64(bitPattern: ret)
            if let open = syscalls.open[s.pid], open.call == call {
                link(open.node, s.index, .syscall)
                syscalls.open[s.pid] = nil
                links.binding = .syscallReturned(enter: open.node)
            } else {
                addUnlinked(.syscallExit, s.index, firstSighting: !syscalls.pidsWithEnter.contains(s.pid),
                            "sys_exit_\(call) without its sys_enter")
            }
        }
        return links
    }

    /// The file system behind a bdi name ("7:0"): the bdi of a loop device,
    /// a device-mapper target or a whole disk is the file system's device
    /// itself; a partition's bdi is its disk, found through the geometry
    /// derived so far. Until the geometry shows, a bdi of the same major as
    /// the one file system traced is taken for it (a partition's disk); a
    /// bdi of another major is another file system's, never guessed onto a
    /// traced one.
    mutating func fsDevice(bdi: String, at index: Int) -> DeviceNumber? {
        if let last = lastFoundBdi, last.name == bdi { return last.dev }
        let parsed: DeviceNumber?
        // The geometry grows as the trace goes: look again now and then, not per event.
        if let cached = bdiDevices[bdi], cached.found || index - cached.at < 65_536 {
            parsed = cached.dev
            if cached.found {
                lastFoundBdi = (bdi, cached.dev)
                return cached.dev
            }
        } else {
            parsed = DeviceNumber(bdi)
            var resolved = parsed
            var found = false
            if let dev = parsed {
                if fsDevices.contains(dev) {
                    found = true
                } else {
                    let onDisk = geometry.all().filter { $0.diskDevice == dev }
                    if onDisk.count == 1 { resolved = onDisk[0].fsDevice; found = true }
                }
            }
            if bdiDevices.count < 1024 { bdiDevices[bdi] = (resolved, found, index) }
            if found { return resolved }
        }
        if let dev = parsed, fsDevices.contains(dev) { return dev }
        if fsDevices.count == 1, let fs = fsDevices.first, let dev = parsed, dev.major == fs.major { return fs }
        return parsed
    }

    /// The block device's own page cache (buffer heads of bitmaps, inode
    /// tables, the journal) shares the bdi: `bdev_alloc` numbers its inode
    /// with the kernel dev_t, `major << 20 | minor`. It is not a file of the
    /// file system.
    func isBlockDeviceInode(_ ino: UInt64, of dev: DeviceNumber) -> Bool {
        ino == UInt64(dev.major) << 20 | UInt64(dev.minor)
    }

    mutating func handleWriteback(_ e: WritebackEvent, _ s: StreamStamp) -> EventLinks {
        var links = EventLinks()
        let inode: InodeID?
        switch e {
        case .dirtyFolio(let bdi, let ino, let index), .waitOnWriteback(let bdi, let ino, let index):
            links.detail = index
            guard let dev = fsDevice(bdi: bdi, at: s.index) else {
                diagnostics.warn("writeback", "bdi \"\(bdi)\" names no device; event not tied to an inode")
                return links
            }
            guard !isBlockDeviceInode(ino, of: dev) else { return links }
            let id = resolve(InodeKey(dev: dev, ino: ino))
            if countsObjects { seenFolios.insert(FolioKey(inode: id, index: index)) }
            inode = id
        case .markInodeWriteback(let ref), .clearInodeWriteback(let ref):
            inode = resolve(ref)
        }
        links.inode = inode
        if let inode, let learned = inodeSeenInRun(s.pid, inode) { links.binding = .workOwnerLearned(learned) }
        return links
    }

    mutating func handleFilemap(_ e: FilemapEvent, _ s: StreamStamp) -> EventLinks {
        switch e {
        case .addToPageCache(let ref, let index, _), .deleteFromPageCache(let ref, let index, _):
            let id = resolve(ref)
            if countsObjects { seenFolios.insert(FolioKey(inode: id, index: index)) }
            return EventLinks(inode: id, detail: index)
        case .fault(let ref, let index), .getPages(let ref, let index, _):
            return EventLinks(inode: resolve(ref), detail: index)
        }
    }

    mutating func handleJBD2(_ e: JBD2Event, _ s: StreamStamp) -> EventLinks {
        switch e {
        case .commit(let phase, let dev, let tid):
            let key = CommitKey(dev: dev, tid: tid)
            if phase == .start { transactions += 1 }
            if let last = commits[key] { link(last, s.index, .commit) }
            commits[key] = phase == .end ? nil : s.index
            return EventLinks(detail: tid)
        case .handleStart(_, let tid, _):
            return EventLinks(detail: tid)
        }
    }

    mutating func handleSched(_ e: SchedEvent, _ s: StreamStamp) -> EventLinks {
        switch e {
        case .wakeup(let pid):
            wakeups[pid] = s.index
            return EventLinks(detail: UInt64(bitPattern: Int64(pid)))
        case .switchTask(_, let next):
            if let w = wakeups.removeValue(forKey: next) { link(w, s.index, .wakeup) }
            return EventLinks(detail: UInt64(bitPattern: Int64(next)))
        }
    }
}
