import KernelEvents
import TraceIO

struct WorkCode: Hashable {
    var work: UInt64
    var function: Int32
}

/// Work items: one per `workqueue_queue_work` (the kernel emits it only when
/// the item was not pending), executed first-in first-out per work struct.
struct WorkState {
    var items: [WorkRecord] = []
    var pending: [WorkCode: [Int32]] = [:]
    /// The item executing on a task.
    var running: [Int32: Int32] = [:]
    var seen: Set<WorkCode> = []
    var pidsThatStartedWork: Set<Int32> = []
}

extension EventGraphBuilder {
    mutating func handleWork(_ e: WorkqueueEvent, _ node: Int32) {
        let pid = nodes.pids[Int(node)]
        let code = WorkCode(work: e.key.work, function: functionCode(e.key.function))
        nodes.details[Int(node)] = e.key.work
        let firstSighting = work.seen.insert(code).inserted
        switch e {
        case .queue:
            let id = Int32(work.items.count)
            work.items.append(WorkRecord(work: code.work, function: code.function, queued: node))
            work.pending[code, default: []].append(id)
        case .activate:
            // The latest queued item not yet activated.
            if let id = work.pending[code]?.last(where: { work.items[Int($0)].activated < 0 }) {
                edges.append(work.items[Int(id)].queued, node, .work)
                work.items[Int(id)].activated = node
            }
        case .executeStart:
            work.pidsThatStartedWork.insert(pid)
            let id: Int32
            if var fifo = work.pending[code], !fifo.isEmpty {
                id = fifo.removeFirst()
                work.pending[code] = fifo.isEmpty ? nil : fifo
                let item = work.items[Int(id)]
                edges.append(item.activated >= 0 ? item.activated : item.queued, node, .work)
            } else {
                id = Int32(work.items.count)
                work.items.append(WorkRecord(work: code.work, function: code.function))
                // flush_work() inserts a barrier item with insert_wq_barrier(), which
                // emits no queue_work (kernel/workqueue.c): nothing is missing.
                if e.key.function != "wq_barrier_func" { addUnlinked(.workExecution, node, firstSighting: firstSighting,
                            "execute_start of \(e.key) without its queue_work") }
            }
            work.items[Int(id)].started = node
            work.running[pid] = id
        case .executeEnd:
            if let id = work.running[pid], work.items[Int(id)].work == code.work,
               work.items[Int(id)].function == code.function {
                edges.append(work.items[Int(id)].started, node, .work)
                work.items[Int(id)].ended = node
                work.running[pid] = nil
            } else {
                addUnlinked(.workExecution, node, firstSighting: !work.pidsThatStartedWork.contains(pid),
                            "execute_end of \(e.key) without its execute_start")
            }
        }
    }
}
