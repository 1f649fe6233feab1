import KernelEvents
import TraceIO

/// An unwritten extent mapped for I/O (`ext4_ext_map_blocks_exit` with
/// PRE_IO and result U, or `ext4_ext_handle_unwritten_extents` PRE_IO when
/// the map events are not recorded).
struct SubmissionRecord {
    var node: Int
    var pid: Int32
    var inode: InodeID
    var extent: ExtentRange
    var mapCall: UInt64
    /// Blocks already converted by CONVERT events.
    var converted: UInt64 = 0
    var bios: [(id: BioID, sectors: SectorRange)] = []
    var coveredSectors: UInt64 = 0
    /// The bios that completed: their sectors and the completion event.
    var completions: [(sectors: SectorRange, at: Int)] = []
    /// Still in its task's list of extents awaiting a bio.
    var waitingForBio = true
    /// Still in its inode's list of extents awaiting conversion.
    var awaitingConversion = true
}

/// A CONVERT awaiting the extent-status update that follows it on its task.
struct AwaitingWritten {
    var node: Int
    var inode: InodeID
    var extent: ExtentRange
    /// Index into `GraphStream.conversionHistory` (with `keepHistory`).
    var history: Int?
}

/// Extents mapped for I/O and their conversions.
struct ExtentState {
    /// Extents awaiting their conversion, per inode: at most this many (a
    /// submission this old whose conversion never showed is not going to be matched).
    static let pendingLimit = 4096
    /// Extents awaiting their bio, per task: a handful; more means bios
    /// were not recorded (the oldest are reported unlinked).
    static let waitingLimit = 256
    var submissions: [Int: SubmissionRecord] = [:]
    var nextSubmission = 0
    var submissionCount: Int { nextSubmission }
    var conversionCount = 0
    var pendingByInode: [InodeID: [Int]] = [:]
    var waitingByPid: [Int32: [Int]] = [:]
    var inodesWithSubmission: Set<InodeID> = []
    var lastSubmissionByPid: [Int32: Int] = [:]
    var provisional: Set<Int> = []
    var mapCallByPid: [Int32: UInt64] = [:]
    var nextMapCall: UInt64 = 1
    /// The conversion on a task awaiting its `es_insert_extent` W.
    var awaitingWritten: [Int32: AwaitingWritten] = [:]
    /// The last extent a task mapped, to pair with its next bio (geometry).
    var lastMapped: [Int32: (fs: DeviceNumber, extent: ExtentRange)] = [:]
    /// The unwritten extent a task's last extent-status lookup found (7.x DIO).
    var foundUnwritten: [Int32: FoundUnwritten] = [:]

    /// A bio carrying submission `id`'s data completed.
    mutating func bioCompleted(_ id: Int, bio: BioID, sectors: SectorRange, at node: Int) {
        submissions[id]?.completions.append((sectors, node))
    }

    /// Drops a submission no list refers to any more.
    mutating func release(_ id: Int) {
        guard let s = submissions[id], !s.waitingForBio, !s.awaitingConversion else { return }
        submissions[id] = nil
        provisional.remove(id)
    }

    /// A freed inode converts nothing more: forget what it still had pending.
    mutating func forget(_ inode: InodeID) {
        guard let pending = pendingByInode.removeValue(forKey: inode) else { return }
        for id in pending {
            submissions[id]?.awaitingConversion = false
            release(id)
        }
    }
}

extension GraphStream {
    /// Records an unwritten extent mapped for I/O. Within one
    /// `ext4_map_blocks` call, `handle_unwritten_extents` PRE_IO comes first
    /// and `map_blocks_exit` gives the final mapping: the exit replaces it.
    mutating func submit(_ s: StreamStamp, inode: InodeID, fs: DeviceNumber, extent: ExtentRange, provisional: Bool) {
        let pid = s.pid
        let call = extents.mapCallByPid[pid] ?? 0
        if !provisional, call != 0, let last = extents.lastSubmissionByPid[pid], extents.provisional.contains(last),
           let sub = extents.submissions[last], sub.mapCall == call, sub.inode == inode {
            extents.submissions[last]!.node = s.index
            extents.submissions[last]!.extent = extent
            extents.provisional.remove(last)
            return
        }
        let id = extents.nextSubmission
        extents.nextSubmission += 1
        extents.submissions[id] = SubmissionRecord(node: s.index, pid: pid, inode: inode, extent: extent, mapCall: call)
        if provisional { extents.provisional.insert(id) }
        extents.pendingByInode[inode, default: []].append(id)
        if let n = extents.pendingByInode[inode]?.count, n > ExtentState.pendingLimit {
            for old in extents.pendingByInode[inode]!.prefix(n - ExtentState.pendingLimit) {
                extents.submissions[old]?.awaitingConversion = false
                extents.release(old)
            }
            extents.pendingByInode[inode]!.removeFirst(n - ExtentState.pendingLimit)
        }
        extents.waitingByPid[pid, default: []].append(id)
        if let n = extents.waitingByPid[pid]?.count, n > ExtentState.waitingLimit {
            for old in extents.waitingByPid[pid]!.prefix(n - ExtentState.waitingLimit) { stopWaiting(old, reportIfUnlinked: true) }
            extents.waitingByPid[pid]!.removeFirst(n - ExtentState.waitingLimit)
        }
        extents.inodesWithSubmission.insert(inode)
        extents.lastSubmissionByPid[pid] = id
    }

    /// Extent mapped for I/O → the bio its task queues for those sectors. A
    /// task queues the bio of an extent it mapped itself (ext4_io_submit in
    /// the writeback task, iomap in the DIO task), so only that task's
    /// extents are searched, oldest first. Returns the submissions the bio carries.
    mutating func linkSubmissions(toBio bio: BioID, _ range: SectorRange, pid: Int32) -> [Int] {
        guard var list = extents.waitingByPid[pid], !list.isEmpty else { return [] }
        var carried: [Int] = []
        var done: [Int] = []
        for id in list {
            guard let sub = extents.submissions[id], sub.node < bio else { continue }
            guard let g = geometry.geometry(of: sub.inode.dev) else { continue }
            let sectors = g.sectors(pblk: sub.extent.pblk, len: sub.extent.len)
            guard sectors.overlaps(range) else { continue }
            link(sub.node, bio, .extentBio)
            carried.append(id)
            extents.submissions[id]!.bios.append((bio, range))
            extents.submissions[id]!.coveredSectors += sectors.overlapCount(range)
            if extents.submissions[id]!.coveredSectors >= sectors.count { done.append(id) }
        }
        if !done.isEmpty {
            list.removeAll { done.contains($0) }
            for id in done { stopWaiting(id, reportIfUnlinked: false) }
        }
        extents.waitingByPid[pid] = list.isEmpty ? nil : list
        return carried
    }

    /// A submission leaves its task's list; one that never got a bio is unlinked.
    mutating func stopWaiting(_ id: Int, reportIfUnlinked: Bool) {
        guard let sub = extents.submissions[id] else { return }
        extents.submissions[id]!.waitingForBio = false
        if reportIfUnlinked, sub.bios.isEmpty { reportUnsubmitted(sub) }
        extents.release(id)
    }

    func unsubmittedReason(_ sub: SubmissionRecord) -> UnlinkedReason {
        let laterBio = (block.lastBioByPid[sub.pid] ?? -1) > sub.node
        // The bio would follow the mapping: a loss after it may have taken it.
        if lossBeforeStart || lastLostIndex > sub.node { return .lostEvents }
        return laterBio ? .unexplained : .traceEnd
    }

    mutating func reportUnsubmitted(_ sub: SubmissionRecord) {
        let known = geometry.geometry(of: sub.inode.dev) != nil
        let detail = "\(sub.inode) \(sub.extent) mapped for I/O, no bio for it\(known ? "" : " (block size unknown)")"
        unlinked.add(UnlinkedEvent(kind: .extentSubmission, node: sub.node, reason: unsubmittedReason(sub), detail: ""),
                     detail: { detail })
    }

    /// Extents mapped for I/O whose bio never appeared, at the end of the trace.
    mutating func reportOpenSubmissions() {
        let open = extents.waitingByPid.values.flatMap { $0 }.sorted()
        for id in open { stopWaiting(id, reportIfUnlinked: true) }
        extents.waitingByPid = [:]
    }

    /// A CONVERT: links it to the extents mapped for I/O that it converts
    /// (same inode, overlapping logical blocks, same physical mapping), and
    /// to the completions of the bios that carried the converted data.
    mutating func convert(_ s: StreamStamp, inode: InodeID, extent: ExtentRange) {
        extents.conversionCount += 1
        let node = s.index
        let runningWork = work.running[s.pid]
        var matched: [Int] = []
        if var pending = extents.pendingByInode[inode] {
            var kept: [Int] = []
            kept.reserveCapacity(pending.count)
            for id in pending {
                guard let sub = extents.submissions[id] else { continue }
                let sameMapping = sub.extent.pblk &- sub.extent.lblk == extent.pblk &- extent.lblk
                if sub.node < node, sameMapping, sub.extent.overlapsLogical(extent) {
                    link(sub.node, node, .extentConversion)
                    matched.append(id)
                    extents.submissions[id]!.converted += sub.extent.logicalOverlapCount(extent)
                    if extents.submissions[id]!.converted >= sub.extent.len {
                        extents.submissions[id]!.awaitingConversion = false
                        continue
                    }
                }
                kept.append(id)
            }
            pending = kept
            extents.pendingByInode[inode] = pending.isEmpty ? nil : pending
        }
        let (bios, completions, geometryKnown) = completionsConverted(by: extent, inode: inode, through: matched, before: node)
        for done in completions { link(done, node, .bioConversion) }
        if let item = runningWork { linkQueueingCompletion(of: item, among: completions) }
        if matched.isEmpty {
            addUnlinked(.conversion, node, firstSighting: !extents.inodesWithSubmission.contains(inode),
                        "CONVERT of \(inode) \(extent) without an extent mapped for I/O before it")
        } else if completions.isEmpty {
            let why = geometryKnown ? "no completed bio carried its data" : "block size unknown"
            addUnlinked(.conversion, node, firstSighting: false, "CONVERT of \(inode) \(extent): \(why)")
        }
        var history: Int?
        if keepHistory {
            history = conversionHistory.count
            conversionHistory.append(ConversionLink(
                conversion: node, inode: inode, extent: extent,
                submissions: matched.compactMap { extents.submissions[$0]?.node },
                bios: bios, completions: completions,
                workItem: runningWork.flatMap { work.items[$0]?.historyIndex }, written: nil))
        }
        for id in matched { extents.release(id) }
        extents.awaitingWritten[s.pid] = AwaitingWritten(node: node, inode: inode, extent: extent, history: history)
    }

    /// The bios (queue events) that carried the converted blocks, and their
    /// completions before `node`.
    mutating func completionsConverted(by extent: ExtentRange, inode: InodeID, through subs: [Int],
                                       before node: Int) -> (bios: [Int], completions: [Int], geometryKnown: Bool) {
        guard let g = geometry.geometry(of: inode.dev) else { return ([], [], false) }
        let converted = g.sectors(pblk: extent.pblk, len: extent.len)
        var bios: [Int] = []
        var completions: [Int] = []
        for id in subs {
            guard let sub = extents.submissions[id] else { continue }
            for b in sub.bios where b.sectors.overlaps(converted) && !bios.contains(b.id) { bios.append(b.id) }
            for c in sub.completions where c.sectors.overlaps(converted) && c.at < node && !completions.contains(c.at) {
                completions.append(c.at)
            }
        }
        return (bios, completions, true)
    }
}
