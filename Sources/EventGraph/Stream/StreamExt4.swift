import KernelEvents
import TraceIO

/// Kernel functions traced at start and end on one task.
enum SpanType: UInt8 { case write, writepages, ioEnd, mapBlocks, syncFile, truncate, fallocate }

struct SpanKey: Hashable {
    var pid: Int32
    var type: SpanType
}

/// One extent a task mapped with its physical blocks (`ext4_ext_map_blocks_exit`).
struct Mapping {
    var inode: InodeID
    var extent: ExtentRange
}

/// A task inside `ext4_writepages` of one inode: the bios it queues carry
/// that inode's data, through the extents it maps on the way.
struct WritebackPass {
    var inode: InodeID
    var mapped: [Mapping] = []
    static let mappedLimit = 256
}

struct SpanState {
    var open: [SpanKey: [Int]] = [:]
    var passes: [Int32: WritebackPass] = [:]
    /// Extents a task mapped outside a writeback pass (direct I/O), latest last.
    var recentMappings: [Int32: [Mapping]] = [:]
    static let recentLimit = 16
}

extension GraphStream {
    mutating func openSpan(_ type: SpanType, _ s: StreamStamp) {
        spans.open[SpanKey(pid: s.pid, type: type), default: []].append(s.index)
    }

    mutating func closeSpan(_ type: SpanType, _ s: StreamStamp) {
        let key = SpanKey(pid: s.pid, type: type)
        guard let start = spans.open[key]?.popLast() else { return }
        link(start, s.index, .span)
        if spans.open[key]?.isEmpty == true { spans.open[key] = nil }
    }

    /// A writeback pass over `inode` starts on the task (or a new io_end of
    /// the pass: its mappings start afresh).
    mutating func startPass(_ pid: Int32, _ inode: InodeID) {
        spans.passes[pid] = WritebackPass(inode: inode)
    }

    mutating func handleExt4(_ e: Ext4Event, _ s: StreamStamp) -> EventLinks {
        let pid = s.pid
        if let ref = e.inode, ref.dev != lastExt4Device {
            fsDevices.insert(ref.dev)
            lastExt4Device = ref.dev
        }
        var links = EventLinks()
        switch e {
        case .allocateInode(let ref):
            let id = generations.allocate(ref)
            if countsObjects { seenInodes.insert(id) }
            lastResolved = id
            links.inode = id
            return links
        case .journalStartReserved:
            return links
        case .extentStatusLookup(let ref, let extent, let status, let found):
            // Cache lookups come by the thousand per file: not the inode's
            // events (`graph --ino` would drown in them). One that found
            // unwritten blocks may be 7.x DIO's extent mapped for I/O.
            links.detail = extent.lblk
            if found, status.contains(.unwritten) { foundUnwritten(s, inode: resolve(ref), fs: ref.dev, extent: extent) }
            return links
        default: break
        }
        guard let ref = e.inode else { return links }
        let inode = resolve(ref)
        links.inode = inode
        switch e {
        case .freeInode:
            inodeFreed(inode)
        case .evictInode:
            // The in-memory inode, and the work struct in it, is freed after
            // eviction (unmount evicts every inode without freeing it on disk):
            // another file system's inode may reuse its address.
            work.forget(inode)
        case .writeBegin(_, let pos, _):
            links.detail = pos
            openSpan(.write, s)
        case .writeEnd(_, let pos, _, _):
            links.detail = pos
            closeSpan(.write, s)
        case .writepages:
            openSpan(.writepages, s)
            startPass(pid, inode)
        case .writepagesResult:
            closeSpan(.writepages, s)
            spans.passes[pid] = nil
        case .writeFoliosStart(_, let pos, _):
            links.detail = pos
            ioEnds += 1
            openSpan(.ioEnd, s)
            if spans.passes[pid]?.inode != inode { startPass(pid, inode) }
        case .writeFoliosEnd(_, let pos, _):
            links.detail = pos
            closeSpan(.ioEnd, s)
        case .writePagesExtent(_, let lblk, _, _):
            links.detail = lblk
        case .mapBlocksEnter(_, let lblk, _, _):
            links.detail = lblk
            extents.mapCallByPid[pid] = extents.nextMapCall
            extents.nextMapCall += 1
            openSpan(.mapBlocks, s)
        case .mapBlocksExit(_, let flags, let extent, let result, let ret):
            links.detail = extent.lblk
            closeSpan(.mapBlocks, s)
            if ret > 0, extent.pblk > 0, result.contains(.mapped) || result.contains(.unwritten) {
                // A conversion's blocks were written already: the task's next
                // bio is not theirs, so it says nothing of the geometry.
                if !flags.contains(.convert) {
                    extents.lastMapped[pid] = (ref.dev, extent)
                    noteMapping(pid, Mapping(inode: inode, extent: extent))
                }
            }
            if ret > 0, flags.mapsUnwrittenForIO, result.contains(.unwritten) {
                submit(s, inode: inode, fs: ref.dev, extent: extent, provisional: false)
            }
            extents.mapCallByPid[pid] = nil
        case .handleUnwritten(_, let flags, let extent):
            links.detail = extent.lblk
            if flags.contains(.convert) {
                convert(s, inode: inode, extent: extent)
            } else if flags.mapsUnwrittenForIO {
                submit(s, inode: inode, fs: ref.dev, extent: extent, provisional: true)
            }
        case .extentStatusInsert(_, let extent, let status):
            links.detail = extent.lblk
            if status.contains(.written), let c = extents.awaitingWritten[pid],
               c.inode == inode, c.extent.overlapsLogical(extent) {
                link(c.node, s.index, .conversionWritten)
                extents.awaitingWritten[pid] = nil
                if keepHistory, let h = c.history { conversionHistory[h].written = s.index }
            }
        case .syncFileEnter: openSpan(.syncFile, s)
        case .syncFileExit: closeSpan(.syncFile, s)
        case .truncateEnter: openSpan(.truncate, s)
        case .truncateExit: closeSpan(.truncate, s)
        case .fallocateEnter(_, let offset, _, _):
            links.detail = UInt64(bitPattern: offset)
            openSpan(.fallocate, s)
        case .fallocateExit: closeSpan(.fallocate, s)
        case .punchHole(_, let offset, _), .zeroRange(_, let offset, _),
             .collapseRange(_, let offset, _), .insertRange(_, let offset, _):
            links.detail = UInt64(bitPattern: offset)
        case .readFolio(_, let index), .releaseFolio(_, let index), .invalidateFolio(_, let index, _, _):
            links.detail = index
            if countsObjects { seenFolios.insert(FolioKey(inode: inode, index: index)) }
        case .removeSpace(_, let start, _):
            links.detail = start
        case .allocateInode, .journalStartReserved, .extentStatusLookup:
            break
        }
        if let learned = inodeSeenInRun(pid, inode) { links.binding = .workOwnerLearned(learned) }
        return links
    }

    mutating func noteMapping(_ pid: Int32, _ m: Mapping) {
        if spans.passes[pid] != nil {
            spans.passes[pid]!.mapped.append(m)
            if spans.passes[pid]!.mapped.count > WritebackPass.mappedLimit { spans.passes[pid]!.mapped.removeFirst() }
        } else {
            spans.recentMappings[pid, default: []].append(m)
            if spans.recentMappings[pid]!.count > SpanState.recentLimit { spans.recentMappings[pid]!.removeFirst() }
        }
    }

    /// Whose data a write bio queued by `pid` carries, and which of the
    /// file's blocks, as far as the trace shows (see `BoundBio`).
    mutating func owner(ofWrite range: SectorRange, by pid: Int32) -> (InodeID?, BlockSpan?) {
        if let pass = spans.passes[pid] {
            return (pass.inode, blocks(of: range, through: pass.mapped, of: pass.inode))
        }
        guard let recent = spans.recentMappings[pid] else { return (nil, nil) }
        for m in recent.reversed() {
            if let span = blocks(of: range, through: CollectionOfOne(m)) { return (m.inode, span) }
        }
        return (nil, nil)
    }

    /// The logical blocks of the last mapping whose physical blocks hold the
    /// bio's first sector; the bio's length in blocks from there. Else a
    /// mapping that begins inside the bio: the blocks ahead of it are folios
    /// whose buffers were already mapped, which `mpage_prepare_extent_to_map`
    /// submits on its way to the extent, in index order, into the same bio
    /// only while each block is the next physical one (`io_submit_add_bh`):
    /// the logical blocks just before the mapping's. Only the mappings of
    /// `inode`, when given, count, and only those on the bio's device.
    ///
    /// One walk, newest first, with no array made and the geometry looked
    /// up once per run of mappings on one file system: a writeback pass
    /// keeps up to `WritebackPass.mappedLimit` of them and each of its bios
    /// walks them.
    mutating func blocks(of range: SectorRange, through mappings: some BidirectionalCollection<Mapping>,
                         of inode: InodeID? = nil) -> BlockSpan? {
        func span(from lblk: UInt64, perBlock: UInt64) -> BlockSpan {
            BlockSpan(lblk: lblk, len: max(1, (range.count + perBlock - 1) / perBlock))
        }
        var beginningInside: BlockSpan?
        var fs: DeviceNumber?
        var g: DeviceGeometry?
        for m in mappings.reversed() where inode == nil || m.inode == inode {
            if m.inode.dev != fs {
                fs = m.inode.dev
                g = geometry.geometry(of: m.inode.dev)
            }
            guard let g, g.diskDevice == range.dev else { continue }
            let sectors = g.sectors(pblk: m.extent.pblk, len: m.extent.len), perBlock = g.sectorsPerBlock
            if range.sector >= sectors.sector && range.sector < sectors.end {
                return span(from: m.extent.lblk + (range.sector - sectors.sector) / perBlock, perBlock: perBlock)
            }
            if beginningInside == nil, sectors.sector > range.sector, sectors.sector < range.end,
               (sectors.sector - range.sector) % perBlock == 0 {
                let ahead = (sectors.sector - range.sector) / perBlock
                if m.extent.lblk >= ahead { beginningInside = span(from: m.extent.lblk - ahead, perBlock: perBlock) }
            }
        }
        return beginningInside
    }

    /// `ext4_free_inode`: the inode converts nothing more and its work struct
    /// may be reused by another inode.
    mutating func inodeFreed(_ inode: InodeID) {
        extents.forget(inode)
        work.forget(inode)
    }
}
