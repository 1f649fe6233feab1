import KernelEvents
import TraceIO

/// Kernel functions traced at start and end on one task.
enum SpanType: UInt8 { case write, writepages, ioEnd, mapBlocks, syncFile, truncate, fallocate }

struct SpanKey: Hashable {
    var pid: Int32
    var type: SpanType
}

/// Extents mapped for I/O and their conversions.
struct ExtentState {
    static let pendingLimit = 4096
    var submissions: [SubmissionRecord] = []
    var conversions: [ConversionRecord] = []
    /// Submissions of an inode not yet fully converted, oldest first.
    var pendingByInode: [Int32: [Int32]] = [:]
    var inodesWithSubmission: Set<Int32> = []
    var lastSubmissionByPid: [Int32: Int32] = [:]
    var provisional: Set<Int32> = []
    var mapCallByPid: [Int32: UInt64] = [:]
    var nextMapCall: UInt64 = 1
    /// The conversion on a task awaiting its `es_insert_extent` W.
    var awaitingWritten: [Int32: Int32] = [:]
    /// The last extent a task mapped, to pair with its next bio (geometry).
    var lastMapped: [Int32: (fs: DeviceNumber, extent: ExtentRange)] = [:]
}

extension EventGraphBuilder {
    mutating func openSpan(_ type: SpanType, _ node: Int32) {
        spans[SpanKey(pid: nodes.pids[Int(node)], type: type), default: []].append(node)
    }

    mutating func closeSpan(_ type: SpanType, _ node: Int32) {
        let key = SpanKey(pid: nodes.pids[Int(node)], type: type)
        guard let start = spans[key]?.popLast() else { return }
        edges.append(start, node, .span)
        if spans[key]?.isEmpty == true { spans[key] = nil }
    }

    mutating func handleExt4(_ e: Ext4Event, _ node: Int32) {
        let pid = nodes.pids[Int(node)]
        if let ref = e.inode { fsDevices.insert(ref.dev) }
        switch e {
        case .allocateInode(let ref):
            nodes.inodes[Int(node)] = inodeCode(generations.allocate(ref))
        case .freeInode(let ref), .evictInode(let ref, _):
            let code = tag(node, ref)
            // A freed inode converts nothing more; forget what it still had pending.
            if case .freeInode = e { extents.pendingByInode[code] = nil }
        case .writeBegin(let ref, let pos, _):
            tag(node, ref, detail: pos)
            openSpan(.write, node)
        case .writeEnd(let ref, let pos, _, _):
            tag(node, ref, detail: pos)
            closeSpan(.write, node)
        case .writepages(let ref, _):
            tag(node, ref)
            openSpan(.writepages, node)
        case .writepagesResult(let ref, _):
            tag(node, ref)
            closeSpan(.writepages, node)
        case .writeFoliosStart(let ref, let pos, _):
            tag(node, ref, detail: pos)
            ioEnds += 1
            openSpan(.ioEnd, node)
        case .writeFoliosEnd(let ref, let pos, _):
            tag(node, ref, detail: pos)
            closeSpan(.ioEnd, node)
        case .writePagesExtent(let ref, let lblk, _, _):
            tag(node, ref, detail: lblk)
        case .mapBlocksEnter(let ref, let lblk, _, _):
            tag(node, ref, detail: lblk)
            extents.mapCallByPid[pid] = extents.nextMapCall
            extents.nextMapCall += 1
            openSpan(.mapBlocks, node)
        case .mapBlocksExit(let ref, let flags, let extent, let result, let ret):
            let code = tag(node, ref, detail: extent.lblk)
            closeSpan(.mapBlocks, node)
            if ret > 0, extent.pblk > 0, result.contains(.mapped) || result.contains(.unwritten) {
                extents.lastMapped[pid] = (ref.dev, extent)
            }
            if ret > 0, flags.contains(.preIO), result.contains(.unwritten) {
                submit(node, pid: pid, inode: code, fs: ref.dev, extent: extent, provisional: false)
            }
            extents.mapCallByPid[pid] = nil
        case .handleUnwritten(let ref, let flags, let extent):
            let code = tag(node, ref, detail: extent.lblk)
            if flags.contains(.convert) {
                convert(node, pid: pid, inode: code, extent: extent)
            } else if flags.contains(.preIO) {
                submit(node, pid: pid, inode: code, fs: ref.dev, extent: extent, provisional: true)
            }
        case .extentStatusInsert(let ref, let extent, let status):
            let code = tag(node, ref, detail: extent.lblk)
            if status.contains(.written), let c = extents.awaitingWritten[pid] {
                let conv = extents.conversions[Int(c)]
                if conv.inode == code, conv.extent.overlapsLogical(extent) {
                    edges.append(conv.node, node, .conversionWritten)
                    extents.conversions[Int(c)].written = node
                    extents.awaitingWritten[pid] = nil
                }
            }
        case .syncFileEnter(let ref, _):
            tag(node, ref)
            openSpan(.syncFile, node)
        case .syncFileExit(let ref, _):
            tag(node, ref)
            closeSpan(.syncFile, node)
        case .truncateEnter(let ref):
            tag(node, ref)
            openSpan(.truncate, node)
        case .truncateExit(let ref):
            tag(node, ref)
            closeSpan(.truncate, node)
        case .fallocateEnter(let ref, let offset, _, _):
            tag(node, ref, detail: UInt64(bitPattern: offset))
            openSpan(.fallocate, node)
        case .fallocateExit(let ref, _):
            tag(node, ref)
            closeSpan(.fallocate, node)
        case .punchHole(let ref, let offset, _), .zeroRange(let ref, let offset, _),
             .collapseRange(let ref, let offset, _), .insertRange(let ref, let offset, _):
            tag(node, ref, detail: UInt64(bitPattern: offset))
        case .readFolio(let ref, let index), .releaseFolio(let ref, let index), .invalidateFolio(let ref, let index, _, _):
            let code = tag(node, ref, detail: index)
            if folioOrders[FolioKey(inode: code, index: index)] == nil { folioOrders[FolioKey(inode: code, index: index)] = 0 }
        case .removeSpace(let ref, let start, _):
            tag(node, ref, detail: start)
        case .journalStartReserved:
            break
        }
    }

    /// Records an unwritten extent mapped for I/O. Within one
    /// `ext4_map_blocks` call, `handle_unwritten_extents` PRE_IO comes first
    /// and `map_blocks_exit` gives the final mapping: the exit replaces it.
    mutating func submit(_ node: Int32, pid: Int32, inode: Int32, fs: DeviceNumber, extent: ExtentRange, provisional: Bool) {
        let call = extents.mapCallByPid[pid] ?? 0
        if !provisional, call != 0, let last = extents.lastSubmissionByPid[pid], extents.provisional.contains(last),
           extents.submissions[Int(last)].mapCall == call, extents.submissions[Int(last)].inode == inode {
            extents.submissions[Int(last)].node = node
            extents.submissions[Int(last)].extent = extent
            extents.provisional.remove(last)
            return
        }
        let id = Int32(extents.submissions.count)
        extents.submissions.append(SubmissionRecord(node: node, pid: pid, inode: inode, fsDev: fs, extent: extent, mapCall: call))
        if provisional { extents.provisional.insert(id) }
        extents.pendingByInode[inode, default: []].append(id)
        // Bound the search of each CONVERT: a submission this old whose
        // conversion never showed is not going to be matched.
        if let n = extents.pendingByInode[inode]?.count, n > ExtentState.pendingLimit {
            extents.pendingByInode[inode]?.removeFirst(n - ExtentState.pendingLimit)
        }
        extents.inodesWithSubmission.insert(inode)
        extents.lastSubmissionByPid[pid] = id
    }

    /// A CONVERT: links it to the extents mapped for I/O that it converts
    /// (same inode, overlapping logical blocks, same physical mapping).
    mutating func convert(_ node: Int32, pid: Int32, inode: Int32, extent: ExtentRange) {
        var record = ConversionRecord(node: node, pid: pid, inode: inode, extent: extent, work: work.running[pid] ?? .none)
        if var pending = extents.pendingByInode[inode] {
            var kept: [Int32] = []
            kept.reserveCapacity(pending.count)
            for sid in pending {
                let sub = extents.submissions[Int(sid)]
                let sameMapping = sub.extent.pblk &- sub.extent.lblk == extent.pblk &- extent.lblk
                if sub.node < node, sameMapping, sub.extent.overlapsLogical(extent) {
                    edges.append(sub.node, node, .extentConversion)
                    record.submissions.append(sid)
                    let overlap = sub.extent.logicalOverlapCount(extent)
                    extents.submissions[Int(sid)].converted += overlap
                    if extents.submissions[Int(sid)].converted >= sub.extent.len { continue }
                }
                kept.append(sid)
            }
            pending = kept
            extents.pendingByInode[inode] = pending.isEmpty ? nil : pending
        }
        extents.awaitingWritten[pid] = Int32(extents.conversions.count)
        extents.conversions.append(record)
    }
}
