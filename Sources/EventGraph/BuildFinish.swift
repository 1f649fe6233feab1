import KernelEvents
import TraceIO

extension EventGraphBuilder {
    /// Resolves the links that need the whole trace (device geometry), then
    /// freezes everything into an `EventGraph`.
    public consuming func finish() -> EventGraph {
        let geometries = geometry.all()
        var byFs: [DeviceNumber: DeviceGeometry] = [:]
        for g in geometries { byFs[g.fsDevice] = g }
        linkExtentsToBios(byFs)
        let conversionLinks = linkConversionsToCompletions(byFs)
        reportOpenSubmissions(byFs)
        for d in decoder.diagnostics.entries { for _ in 0..<d.count { diagnostics.warn(d.event, d.message) } }
        if !fsDevices.isEmpty, geometries.isEmpty, !block.bios.isEmpty {
            diagnostics.warn("ext4", "no extent could be matched with a bio: block size and partition start unknown, extents not linked to bios")
        }

        var objects: [ObjectKind: Int] = [:]
        objects[.inode] = inodeTable.count
        objects[.folio] = folioOrders.count
        objects[.ioEnd] = ioEnds
        objects[.extent] = extents.submissions.count
        objects[.conversion] = extents.conversions.count
        objects[.bio] = block.bios.count
        objects[.request] = block.requestCount
        objects[.flush] = block.flushCount
        objects[.workItem] = work.items.count
        objects[.syscall] = syscalls.count
        objects[.transaction] = transactions

        let workItems = work.items.map { w in
            WorkItem(key: WorkKey(work: w.work, function: functionTable[Int(w.function)]),
                     queued: w.queued.node, activated: w.activated.node, started: w.started.node, ended: w.ended.node)
        }
        return EventGraph(
            nodes: nodes, edges: edges, chainLengths: chainLengths, chainPids: chainPids,
            nameTable: nameTable, inodeTable: inodeTable, comms: comms,
            objectCounts: objects, unlinked: unlinked.sorted { $0.node < $1.node },
            geometries: geometries, diagnostics: diagnostics.entries, conversions: conversionLinks,
            workItems: workItems, lostEvents: lostMarkers, lossBeforeStart: lossBeforeStart)
    }

    /// Extent mapped for I/O → the bio(s) its task queued for those sectors.
    /// A task queues the bio of an extent it mapped itself (ext4_io_submit in
    /// the writeback task, iomap in the DIO task), so only that task's bios
    /// are searched, in stream order.
    mutating func linkExtentsToBios(_ byFs: [DeviceNumber: DeviceGeometry]) {
        var waiting: [Int32: [Int32]] = [:]
        var s = 0
        let subs = extents.submissions.count
        for b in 0..<block.bios.count {
            let bio = block.bios[b]
            while s < subs, extents.submissions[s].node < bio.queued {
                if byFs[extents.submissions[s].fsDev] != nil {
                    let pid = extents.submissions[s].pid
                    waiting[pid, default: []].append(Int32(s))
                    // A task has a handful of extents awaiting their bio; more means
                    // bios were not recorded: drop the oldest (reported unlinked).
                    if let n = waiting[pid]?.count, n > 256 { waiting[pid]?.removeFirst(n - 256) }
                }
                s += 1
            }
            guard bio.count > 0, var list = waiting[bio.pid] else { continue }
            list.removeAll { sid in
                let sub = extents.submissions[Int(sid)]
                guard let g = byFs[sub.fsDev] else { return true }
                let sectors = g.sectors(pblk: sub.extent.pblk, len: sub.extent.len)
                guard sectors.overlaps(bio.range) else { return false }
                edges.append(sub.node, bio.queued, .extentBio)
                extents.submissions[Int(sid)].bios.append(Int32(b))
                let overlap = sectors.overlapCount(bio.range)
                extents.submissions[Int(sid)].coveredSectors += overlap
                return extents.submissions[Int(sid)].coveredSectors >= sectors.count
            }
            waiting[bio.pid] = list.isEmpty ? nil : list
        }
    }

    /// Bio completion → the conversion of the data it carried.
    mutating func linkConversionsToCompletions(_ byFs: [DeviceNumber: DeviceGeometry]) -> [ConversionLink] {
        var links: [ConversionLink] = []
        var workQueuedByCompletion: Set<Int32> = []
        links.reserveCapacity(extents.conversions.count)
        for c in extents.conversions {
            var completions: [Int32] = []
            var bioNodes: [Int32] = []
            var fsDev: DeviceNumber?
            for sid in c.submissions {
                let sub = extents.submissions[Int(sid)]
                fsDev = sub.fsDev
                guard let g = byFs[sub.fsDev] else { continue }
                let converted = g.sectors(pblk: c.extent.pblk, len: c.extent.len)
                for b in sub.bios {
                    let bio = block.bios[Int(b)]
                    guard bio.range.overlaps(converted) else { continue }
                    bioNodes.append(bio.queued)
                    if bio.completed >= 0, bio.completed < c.node, !completions.contains(bio.completed) {
                        completions.append(bio.completed)
                    }
                }
            }
            for done in completions { edges.append(done, c.node, .bioConversion) }
            // The completion that queued the conversion work: the last one before
            // queue_work (the io_end list was empty then; later io_ends join the list).
            if c.work >= 0, workQueuedByCompletion.insert(c.work).inserted {
                let queued = work.items[Int(c.work)].queued
                if queued >= 0, let done = completions.filter({ $0 < queued }).max() {
                    edges.append(done, queued, .bioConversion)
                }
            }
            let inode = inodeTable[Int(c.inode)]
            if c.submissions.isEmpty {
                addUnlinked(.conversion, c.node, firstSighting: !extents.inodesWithSubmission.contains(c.inode),
                            "CONVERT of \(inode) \(c.extent) without an extent mapped for I/O before it")
            } else if completions.isEmpty {
                let why = fsDev.flatMap { byFs[$0] } == nil ? "block size unknown" : "no completed bio carried its data"
                addUnlinked(.conversion, c.node, firstSighting: false, "CONVERT of \(inode) \(c.extent): \(why)")
            }
            links.append(ConversionLink(
                conversion: Int(c.node), inode: inode, extent: c.extent,
                submissions: c.submissions.map { Int(extents.submissions[Int($0)].node) },
                bios: bioNodes.map(Int.init), completions: completions.map(Int.init),
                workItem: c.work >= 0 ? Int(c.work) : nil, written: c.written.node))
        }
        return links
    }

    /// Extents mapped for I/O whose bio never appeared.
    mutating func reportOpenSubmissions(_ byFs: [DeviceNumber: DeviceGeometry]) {
        for sub in extents.submissions where sub.bios.isEmpty {
            let laterBio = (block.lastBioByPid[sub.pid] ?? -1) > sub.node
            let reason: UnlinkedReason
            // The bio would follow the mapping: a loss after it may have taken it.
            if lossBeforeStart || lastLostNode > sub.node {
                reason = .lostEvents
            } else if !laterBio {
                reason = .traceEnd
            } else {
                reason = .unexplained
            }
            let why = byFs[sub.fsDev] == nil ? " (block size unknown)" : ""
            unlinked.append(UnlinkedEvent(kind: .extentSubmission, node: Int(sub.node), reason: reason,
                                          detail: "\(inodeTable[Int(sub.inode)]) \(sub.extent) mapped for I/O, no bio for it\(why)"))
        }
    }
}

extension Int32 {
    /// -1 → nil.
    var node: Int? { self >= 0 ? Int(self) : nil }
}
