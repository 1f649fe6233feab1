import KernelEvents
import TraceIO

struct SyscallState {
    var open: [Int32: (node: Int32, call: Syscall)] = [:]
    var pidsWithEnter: Set<Int32> = []
    var count = 0
}

struct CommitKey: Hashable {
    var dev: DeviceNumber
    var tid: UInt64
}

struct FolioKey: Hashable {
    var inode: Int32
    var index: UInt64
}

extension EventGraphBuilder {
    mutating func handleSyscall(_ e: SyscallEvent, _ node: Int32) {
        let pid = nodes.pids[Int(node)]
        switch e {
        case .enter(let call, let args):
            syscalls.open[pid] = (node, call)
            syscalls.pidsWithEnter.insert(pid)
            syscalls.count += 1
            if let cmd = args.ioctl {
                switch cmd {
                case .freeze: nodes.details[Int(node)] = UInt64(IoctlCommand.fifreeze)
                case .thaw: nodes.details[Int(node)] = UInt64(IoctlCommand.fithaw)
                case .other(let c): nodes.details[Int(node)] = UInt64(c)
                }
            }
        case .exit(let call, let ret):
            nodes.details[Int(node)] = UInt64(bitPattern: ret)
            if let open = syscalls.open[pid], open.call == call {
                edges.append(open.node, node, .syscall)
                syscalls.open[pid] = nil
            } else {
                addUnlinked(.syscallExit, node, firstSighting: !syscalls.pidsWithEnter.contains(pid),
                            "sys_exit_\(call) without its sys_enter")
            }
        }
    }

    /// The file system behind a bdi name: the bdi of a loop device or a
    /// whole disk is the fs device itself; a partition's bdi is its disk,
    /// found through the geometry derived so far.
    mutating func fsDevice(bdi: String, at node: Int32) -> DeviceNumber? {
        guard let dev = DeviceNumber(bdi) else { return nil }
        if fsDevices.contains(dev) { return dev }
        // The geometry grows as the trace goes: look again now and then, not per event.
        if let cached = bdiDevices[bdi], cached.found || node - cached.at < 65_536 { return cached.dev }
        let onDisk = geometry.all().filter { $0.diskDevice == dev }
        let resolved = onDisk.count == 1 ? onDisk[0].fsDevice : dev
        bdiDevices[bdi] = (resolved, onDisk.count == 1, node)
        return resolved
    }

    mutating func handleWriteback(_ e: WritebackEvent, _ node: Int32) {
        switch e {
        case .dirtyFolio(let bdi, let ino, let index), .waitOnWriteback(let bdi, let ino, let index):
            guard let dev = fsDevice(bdi: bdi, at: node) else {
                diagnostics.warn(nameTable[Int(nodes.names[Int(node)])], "bdi \"\(bdi)\" names no device; event not tied to an inode")
                return
            }
            let code = tag(node, InodeRef(dev: dev, ino: ino), detail: index)
            if folioOrders[FolioKey(inode: code, index: index)] == nil { folioOrders[FolioKey(inode: code, index: index)] = 0 }
        case .markInodeWriteback(let ref), .clearInodeWriteback(let ref):
            tag(node, ref)
        }
    }

    mutating func handleFilemap(_ e: FilemapEvent, _ node: Int32) {
        switch e {
        case .addToPageCache(let ref, let index, let order), .deleteFromPageCache(let ref, let index, let order):
            let code = tag(node, ref, detail: index)
            folioOrders[FolioKey(inode: code, index: index)] = order
        case .fault(let ref, let index), .getPages(let ref, let index, _):
            tag(node, ref, detail: index)
        }
    }

    mutating func handleJBD2(_ e: JBD2Event, _ node: Int32) {
        switch e {
        case .commit(let phase, let dev, let tid):
            nodes.details[Int(node)] = tid
            let key = CommitKey(dev: dev, tid: tid)
            if phase == .start { transactions += 1 }
            if let last = commits[key] { edges.append(last, node, .commit) }
            commits[key] = phase == .end ? nil : node
        case .handleStart(_, let tid, _):
            nodes.details[Int(node)] = tid
        }
    }

    mutating func handleSched(_ e: SchedEvent, _ node: Int32) {
        switch e {
        case .wakeup(let pid):
            nodes.details[Int(node)] = UInt64(bitPattern: Int64(pid))
            wakeups[pid] = node
        case .switchTask(_, let next):
            nodes.details[Int(node)] = UInt64(bitPattern: Int64(next))
            if let w = wakeups.removeValue(forKey: next) { edges.append(w, node, .wakeup) }
        }
    }
}
