import KernelEvents
import TraceIO

struct WorkCode: Hashable {
    var work: UInt64
    var function: String

    /// The work struct's address alone: one struct runs one function at a
    /// time, and hashing the function's name cost a SipHash round over a
    /// string per work event.
    func hash(into hasher: inout Hasher) { hasher.combine(work) }
    func _rawHashValue(seed: Int) -> Int { WordHash.fold(work, seed: seed) }
}

/// One work item: a queueing and its execution.
struct WorkRecord {
    var key: WorkKey
    var queued = -1
    var activated = -1
    var started = -1
    var ended = -1
    var owner: WorkOwner = .unknown
    /// The queueing already has an edge from the completion that queued it.
    var queueCauseLinked = false
    /// Index into `GraphStream.workHistory` (with `keepHistory`).
    var historyIndex: Int?

    func bound(_ id: WorkID) -> BoundWork { BoundWork(id: id, key: key, owner: owner) }
}

/// Work items: one per `workqueue_queue_work` (the kernel emits it only when
/// the item was not pending), executed first-in first-out per work struct.
struct WorkState {
    var items: [WorkID: WorkRecord] = [:]
    var pending: [WorkCode: [WorkID]] = [:]
    /// The item executing on a task.
    var running: [Int32: WorkID] = [:]
    var seen: Set<WorkCode> = []
    var pidsThatStartedWork: Set<Int32> = []
    var itemCount = 0
    /// Conversion work structs and the inode each was last seen working
    /// for (`i_rsv_conversion_work` lives in the inode; ≤3.10 `io_end->work`
    /// in an io_end of the inode). Forgotten when the inode is freed: the
    /// slab memory can then be another inode's.
    var ownerOfStruct: [UInt64: InodeID] = [:]

    mutating func forget(_ inode: InodeID) {
        for (work, owner) in ownerOfStruct where owner == inode { ownerOfStruct[work] = nil }
    }

    /// The functions of ext4's conversion work items (`ext4_end_io_work`,
    /// `ext4_end_io_rsv_work`, `ext4_end_io_unrsv_work` …).
    static let conversionPrefix = "ext4_end_io"

    static func isConversion(_ key: WorkKey) -> Bool { key.function.hasPrefix(conversionPrefix) }

    /// ≥3.11's conversion work, one struct per inode.
    static let perInodeConversion = "ext4_end_io_rsv_work"
}

extension GraphStream {
    mutating func handleWork(_ e: WorkqueueEvent, _ s: StreamStamp) -> EventLinks {
        let node = s.index
        let pid = s.pid
        let code = WorkCode(work: e.key.work, function: e.key.function)
        var links = EventLinks(detail: e.key.work)
        let firstSighting = work.seen.insert(code).inserted
        switch e {
        case .queue:
            let id = node
            work.itemCount += 1
            var item = WorkRecord(key: e.key, queued: node)
            item.owner = ownerAtQueueing(e.key, s)
            if case .inode(_, .queuedByCompletion) = item.owner, let c = lastCompletionByCPU[s.cpu] {
                link(c.index, node, .bioConversion)
                item.queueCauseLinked = true
            }
            work.items[id] = item
            work.pending[code, default: []].append(id)
            remember(id)
            links.binding = .workQueued(item.bound(id))
        case .activate:
            // The latest queued item not yet activated.
            if let id = work.pending[code]?.last(where: { work.items[$0]!.activated < 0 }) {
                link(work.items[id]!.queued, node, .work)
                work.items[id]!.activated = node
                updateHistory(id)
            }
        case .executeStart:
            work.pidsThatStartedWork.insert(pid)
            let id: WorkID
            if var fifo = work.pending[code], !fifo.isEmpty {
                id = fifo.removeFirst()
                work.pending[code] = fifo.isEmpty ? nil : fifo
                let item = work.items[id]!
                link(item.activated >= 0 ? item.activated : item.queued, node, .work)
            } else {
                id = node
                work.itemCount += 1
                var item = WorkRecord(key: e.key)
                if WorkState.isConversion(e.key), let owner = work.ownerOfStruct[e.key.work] {
                    item.owner = .inode(owner, .sameWorkStruct)
                }
                work.items[id] = item
                remember(id)
                // flush_work() inserts a barrier item with insert_wq_barrier(), which
                // emits no queue_work (kernel/workqueue.c): nothing is missing.
                if e.key.function != "wq_barrier_func" {
                    addUnlinked(.workExecution, node, firstSighting: firstSighting, "execute_start of \(e.key) without its queue_work")
                }
            }
            work.items[id]!.started = node
            work.running[pid] = id
            updateHistory(id)
            links.binding = .workStarted(work.items[id]!.bound(id))
        case .executeEnd:
            if let id = work.running[pid], let item = work.items[id], item.key == e.key {
                link(item.started, node, .work)
                work.items[id]!.ended = node
                work.running[pid] = nil
                updateHistory(id)
                links.binding = .workEnded(item.bound(id))
                work.items[id] = nil
            } else {
                addUnlinked(.workExecution, node, firstSighting: !work.pidsThatStartedWork.contains(pid),
                            "execute_end of \(e.key) without its execute_start")
            }
        }
        return links
    }

    /// Whose conversion work a queueing is: the inode its work struct was
    /// last seen working for, else the inode of the bios whose completion the
    /// irq handler traced just before on this CPU (`ext4_end_bio` →
    /// `ext4_add_complete_io` → `queue_work`). Anything else stays unknown:
    /// a work item of a file system that was not traced.
    func ownerAtQueueing(_ key: WorkKey, _ s: StreamStamp) -> WorkOwner {
        guard WorkState.isConversion(key) else { return .unknown }
        if let owner = work.ownerOfStruct[key.work] { return .inode(owner, .sameWorkStruct) }
        guard let c = lastCompletionByCPU[s.cpu], c.owners.count == 1, let owner = c.owners.first else { return .unknown }
        // ≥3.11 the work struct lives in the inode (`i_rsv_conversion_work`):
        // an inode whose own struct is known queues no other one. That one
        // is another file system's, queued in the same irq.
        if key.function == WorkState.perInodeConversion,
           work.ownerOfStruct.contains(where: { $0.value == owner && $0.key != key.work }) {
            return .unknown
        }
        return .inode(owner, .queuedByCompletion)
    }

    /// An ext4 event of `inode` on a task running a conversion work item: the
    /// work is that inode's. Returns the item if this is news.
    mutating func inodeSeenInRun(_ pid: Int32, _ inode: InodeID) -> BoundWork? {
        guard let id = work.running[pid], let item = work.items[id], WorkState.isConversion(item.key) else { return nil }
        if case .inode(let owner, let evidence) = item.owner, owner == inode {
            if evidence != .ranForInode { work.items[id]!.owner = .inode(inode, .ranForInode) }
            work.ownerOfStruct[item.key.work] = inode
            return nil
        }
        if case .inode(let other, _) = item.owner {
            diagnostics.warn(item.key.function, "work \(String(item.key.work, radix: 16)) taken for \(other) runs for \(inode)")
        }
        work.items[id]!.owner = .inode(inode, .ranForInode)
        work.ownerOfStruct[item.key.work] = inode
        updateHistory(id)
        return work.items[id]!.bound(id)
    }

    /// The queueing of a conversion run's work: caused by the last of the
    /// converted data's completions before it (the io_end list was empty
    /// then; later io_ends joined the queued list).
    mutating func linkQueueingCompletion(of id: WorkID, among completions: [Int]) {
        guard let item = work.items[id], item.queued >= 0, !item.queueCauseLinked,
              let done = completions.filter({ $0 < item.queued }).max() else { return }
        link(done, item.queued, .bioConversion)
        work.items[id]!.queueCauseLinked = true
    }

    mutating func remember(_ id: WorkID) {
        guard keepHistory, let item = work.items[id] else { return }
        work.items[id]!.historyIndex = workHistory.count
        workHistory.append(WorkItem(key: item.key, queued: nil, activated: nil, started: nil, ended: nil))
        updateHistory(id)
    }

    mutating func updateHistory(_ id: WorkID) {
        guard keepHistory, let item = work.items[id], let h = item.historyIndex else { return }
        workHistory[h] = WorkItem(key: item.key, queued: item.queued.node, activated: item.activated.node,
                                  started: item.started.node, ended: item.ended.node)
    }
}

extension Int {
    /// -1 → nil.
    var node: Int? { self >= 0 ? self : nil }
}
