import KernelEvents
import TraceIO

struct RequestKey: Hashable {
    var dev: DeviceNumber
    var sector: UInt64
}

/// A bio in flight.
struct BioRecord {
    var pid: Int32
    var sectors: SectorRange
    /// PREFLUSH or FUA: its request ends with a zero-length completion
    /// after the flush machinery ran (the request itself shows neither flag).
    var flushSequence: Bool
    /// Sectors already attributed to requests (a bio split into requests).
    var claimed: UInt64 = 0
    /// Sectors not yet completed.
    var remaining: UInt64
    var firstRequest = -1
    /// The error a completion of its sectors reported, and which one.
    var error: Int64 = 0
    var failedBy: StreamStamp?
    var owner: InodeID?
    /// Queued inside the owner's writeback pass (`ext4_io_submit`): its
    /// completion runs `ext4_end_bio`, which may queue the conversion work.
    /// A direct-I/O bio completes through iomap and never does.
    var writeback = false
    var blocks: BlockSpan?
    var blockSize: UInt64?
    /// Extents mapped for I/O whose data this bio carries.
    var submissions: [Int] = []

    func bound(_ id: BioID) -> BoundBio {
        BoundBio(id: id, sectors: sectors, owner: owner, blocks: blocks, blockSize: blockSize)
    }
}

struct RequestRecord {
    var inserted = -1
    var issued = -1
    var sector: UInt64
    var count: UInt64
    var preflushOrFUA: Bool
    var bios: [BioID] = []
    var last: Int { issued >= 0 ? issued : inserted }
}

/// A bio not yet completed, with its start sector: the device's list is
/// searched by sector without looking each bio up.
struct OutstandingBio {
    var id: BioID
    var sector: UInt64
}

/// Bios and requests in flight, per disk.
struct BlockState {
    var bios: [BioID: BioRecord] = [:]
    /// Bios not yet completed, by device, sorted by start sector.
    var outstanding: [DeviceNumber: [OutstandingBio]] = [:]
    var longestBio: [DeviceNumber: UInt64] = [:]
    var requests: [RequestKey: RequestRecord] = [:]
    var biosQueued = 0
    var requestCount = 0
    var flushCount = 0
    var pendingFlushes: [DeviceNumber: [Int]] = [:]
    var devicesWithFlushIssue: Set<DeviceNumber> = []
    /// The data completion of a PREFLUSH/FUA request, awaiting the
    /// zero-length completion that ends its flush sequence.
    var flushSequences: [RequestKey: Int] = [:]
    /// Start sectors seen queued or issued, per device, to tell a completion
    /// of I/O issued before the recording from one whose issue is missing.
    var seenSectors = SeenSectors()
    var lastBioByPid: [Int32: Int] = [:]
    /// Empty PREFLUSH bios (`FWS 0 + 0`, blkdev_issue_flush): they become a
    /// flush request (`FF`) and end with a zero-length completion.
    var emptyFlushBios: [DeviceNumber: [(bio: Int, flushIssued: Bool)]] = [:]
    var lastFlushCompletion: [DeviceNumber: Int] = [:]
}

/// Start sectors seen, per device. Only a hint for why a completion lacks
/// its issue, so it forgets everything when it grows past a bound instead
/// of growing with the trace.
struct SeenSectors {
    static let limit = 1 << 20
    private var sets: [DeviceNumber: Set<UInt64>] = [:]
    private var count = 0

    mutating func insert(_ dev: DeviceNumber, _ sector: UInt64) {
        if count >= Self.limit { sets = [:]; count = 0 }
        if sets[dev, default: []].insert(sector).inserted { count += 1 }
    }

    func contains(_ dev: DeviceNumber, _ sector: UInt64) -> Bool { sets[dev]?.contains(sector) ?? false }
}

extension GraphStream {
    mutating func handleBlock(_ e: BlockEvent, _ s: StreamStamp) -> EventLinks {
        let io = e.io
        var links = EventLinks(detail: io.range.sector)
        switch e {
        case .bioQueue(let io): links.binding = queueBio(io, s)
        case .bioRemap(let io, let from): geometry.observeRemap(from: from, to: io.range)
        case .requestInsert(let io), .requestIssue(let io):
            let issue: Bool
            if case .requestIssue = e { issue = true } else { issue = false }
            if io.rwbs.isFlush && io.range.count == 0 {
                if issue { issueFlush(io, s.index) }
            } else if io.range.count > 0 {
                let bios = startRequest(io, s.index, issue: issue)
                if issue, !bios.isEmpty { links.binding = .bioIssued(bios) }
            }
        case .requestComplete(let io, let error): links.binding = complete(io, error: error, s, requestBased: true)
        case .bioComplete(let io, let error): links.binding = complete(io, error: error, s, requestBased: false)
        }
        return links
    }

    mutating func issueFlush(_ io: BlockIO, _ node: Int) {
        if let i = block.emptyFlushBios[io.range.dev]?.firstIndex(where: { !$0.flushIssued }) {
            link(block.emptyFlushBios[io.range.dev]![i].bio, node, .blockIO)
            block.emptyFlushBios[io.range.dev]![i].flushIssued = true
        }
        block.pendingFlushes[io.range.dev, default: []].append(node)
        block.devicesWithFlushIssue.insert(io.range.dev)
        block.flushCount += 1
    }

    mutating func queueBio(_ io: BlockIO, _ s: StreamStamp) -> StreamBinding {
        let id = s.index
        block.biosQueued += 1
        var bio = BioRecord(pid: s.pid, sectors: io.range, flushSequence: io.rwbs.preflush || io.rwbs.fua, remaining: io.range.count)
        block.lastBioByPid[s.pid] = id
        block.seenSectors.insert(io.range.dev, io.range.sector)
        if let mapped = extents.lastMapped.removeValue(forKey: s.pid) {
            geometry.observe(fs: mapped.fs, extent: mapped.extent, bio: io.range)
        }
        guard io.range.count > 0 else {
            if io.rwbs.preflush { block.emptyFlushBios[io.range.dev, default: []].append((id, false)) }
            return .none
        }
        if io.rwbs.operation == .write {
            (bio.owner, bio.blocks) = owner(ofWrite: io.range, by: s.pid)
            bio.writeback = bio.owner != nil && spans.passes[s.pid]?.inode == bio.owner
        }
        if let fs = bio.owner?.dev { bio.blockSize = geometry.geometry(of: fs)?.blockSize }
        let found = extents.foundUnwritten.removeValue(forKey: s.pid)
        bio.submissions = linkSubmissions(toBio: id, io.range, pid: s.pid)
        if bio.submissions.isEmpty, io.rwbs.operation == .write, let found {
            bio.submissions = submitFoundUnwritten(found, toBio: id, io.range)
        }
        block.bios[id] = bio
        block.longestBio[io.range.dev] = max(block.longestBio[io.range.dev] ?? 0, io.range.count)
        // In place: a copy of the device's list per bio showed in profiles.
        let at = insertionIndex(io.range)
        block.outstanding[io.range.dev, default: []].insert(OutstandingBio(id: id, sector: io.range.sector), at: at)
        return .bioQueued(bio.bound(id))
    }

    /// Where a bio of `range` goes in its device's outstanding list: after
    /// the bios that start at or before its first sector.
    func insertionIndex(_ range: SectorRange) -> Int {
        guard let list = block.outstanding[range.dev] else { return 0 }
        var i = lowerBound(list, range.sector)
        while i < list.count, list[i].sector == range.sector { i += 1 }
        return i
    }

    /// Where bio `b` (of `sectors`) is in its device's outstanding list.
    func outstandingIndex(of b: BioID, _ sectors: SectorRange) -> Int? {
        guard let list = block.outstanding[sectors.dev] else { return nil }
        var i = lowerBound(list, sectors.sector)
        while i < list.count, list[i].id != b, list[i].sector == sectors.sector { i += 1 }
        return i < list.count && list[i].id == b ? i : nil
    }

    /// First index in `list` whose bio starts at or after `sector`.
    func lowerBound(_ list: [OutstandingBio], _ sector: UInt64) -> Int {
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if list[mid].sector < sector { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Outstanding bios of `range.dev` overlapping `range`, oldest start first.
    func overlappingBios(_ range: SectorRange) -> [BioID] {
        guard let list = block.outstanding[range.dev], !list.isEmpty else { return [] }
        let reach = block.longestBio[range.dev] ?? 0
        var i = lowerBound(list, range.sector >= reach ? range.sector - reach : 0)
        var found: [BioID] = []
        while i < list.count, list[i].sector < range.end {
            if block.bios[list[i].id]!.sectors.overlaps(range) { found.append(list[i].id) }
            i += 1
        }
        return found
    }

    /// Whether bios in `range` wait for a request (queued, not all claimed).
    func waitingBios(_ range: SectorRange) -> Bool {
        overlappingBios(range).contains { block.bios[$0]!.claimed < block.bios[$0]!.sectors.count }
    }

    /// `block_rq_insert` / `block_rq_issue`: the bios the request carries.
    mutating func startRequest(_ io: BlockIO, _ node: Int, issue: Bool) -> [BoundBio] {
        let key = RequestKey(dev: io.range.dev, sector: io.range.sector)
        block.seenSectors.insert(io.range.dev, io.range.sector)
        if var request = block.requests[key], !(request.issued >= 0 && waitingBios(io.range)) {
            // Insert → issue, or a requeued request issued again. (An
            // issued request whose sectors new bios, not yet in a request,
            // now share was completed unseen: this is a new request.)
            link(request.last, node, .blockIO)
            if issue { request.issued = node } else { request.inserted = node }
            block.requests[key] = request
            return request.bios.compactMap { id in block.bios[id].map { $0.bound(id) } }
        }
        var request = RequestRecord(sector: io.range.sector, count: io.range.count,
                                    preflushOrFUA: io.rwbs.preflush || io.rwbs.fua)
        if issue { request.issued = node } else { request.inserted = node }
        for b in overlappingBios(io.range) where block.bios[b]!.claimed < block.bios[b]!.sectors.count {
            let bio = block.bios[b]!
            block.bios[b]!.claimed += bio.sectors.overlapCount(io.range)
            if bio.firstRequest < 0 { block.bios[b]!.firstRequest = node }
            request.bios.append(b)
            if bio.flushSequence { request.preflushOrFUA = true }
            link(b, node, .blockIO)
        }
        block.requests[key] = request
        block.requestCount += 1
        return request.bios.compactMap { id in block.bios[id].map { $0.bound(id) } }
    }

    mutating func complete(_ io: BlockIO, error: Int64, _ s: StreamStamp, requestBased: Bool) -> StreamBinding {
        let node = s.index
        let dev = io.range.dev
        if io.rwbs.isFlush && io.range.count == 0 {
            block.lastFlushCompletion[dev] = node
            if var fifo = block.pendingFlushes[dev], !fifo.isEmpty {
                link(fifo.removeFirst(), node, .blockIO)
                block.pendingFlushes[dev] = fifo
            } else {
                addUnlinked(.bioCompletion, node, firstSighting: !block.devicesWithFlushIssue.contains(dev),
                            "flush completion on \(dev) without its issue")
            }
            return .none
        }
        let key = RequestKey(dev: dev, sector: io.range.sector)
        if io.range.count == 0 {
            completeFlushSequence(key, dev: dev, node: node)
            return .none
        }
        var finished: [CompletedBio] = []
        if requestBased, var request = block.requests.removeValue(forKey: key) {
            link(request.last, node, .blockIO)
            for b in request.bios {
                if let done = finishBio(b, covering: io.range, error: error, s) { finished.append(done) }
            }
            if request.preflushOrFUA { block.flushSequences[key] = node }
            if io.range.count < request.count {
                // Partial completion: the rest continues at the next sector.
                request.sector += io.range.count
                request.count -= io.range.count
                block.requests[RequestKey(dev: dev, sector: request.sector)] = request
            }
        } else {
            // No request events (bio-based device such as device-mapper, or not recorded): complete bios directly.
            let bios = overlappingBios(io.range)
            guard !bios.isEmpty else {
                addUnlinked(.bioCompletion, node, firstSighting: !block.seenSectors.contains(dev, io.range.sector),
                            "completion of \(io.range) without its issue")
                return .none
            }
            for b in bios {
                link(b, node, .blockIO)
                if let done = finishBio(b, covering: io.range, error: error, s) { finished.append(done) }
            }
        }
        guard !finished.isEmpty else { return .none }
        // One irq handler may finish several requests before it queues the
        // conversion work: the owners of the whole batch whose bios end in
        // `ext4_end_bio`.
        var owners = lastCompletionByCPU[s.cpu]?.owners ?? []
        for done in finished where done.writeback {
            if let o = done.bio.owner, !owners.contains(o) { owners.append(o) }
        }
        lastCompletionByCPU[s.cpu] = LastCompletion(index: node, owners: owners)
        return .bioCompleted(finished)
    }

    /// A zero-length completion: the end of a PREFLUSH/FUA sequence, or of an empty PREFLUSH bio.
    mutating func completeFlushSequence(_ key: RequestKey, dev: DeviceNumber, node: Int) {
        if let data = block.flushSequences.removeValue(forKey: key) {
            link(data, node, .blockIO)
        } else if var empties = block.emptyFlushBios[dev], !empties.isEmpty {
            // The end of an empty PREFLUSH bio: after the flush it caused.
            let bio = empties.removeFirst().bio
            block.emptyFlushBios[dev] = empties.isEmpty ? nil : empties
            if let flush = block.lastFlushCompletion[dev], flush > bio {
                link(flush, node, .blockIO)
            } else {
                link(bio, node, .blockIO)
            }
        } else {
            addUnlinked(.bioCompletion, node, firstSighting: !block.seenSectors.contains(dev, key.sector),
                        "zero-length completion at \(dev) \(key.sector) without a data completion before it")
        }
    }

    /// Marks the part of bio `b` inside `range` complete; a bio whose last
    /// sector completed leaves the outstanding list and is returned.
    mutating func finishBio(_ b: BioID, covering range: SectorRange, error: Int64, _ s: StreamStamp) -> CompletedBio? {
        let node = s.index
        guard var bio = block.bios[b], bio.remaining > 0, bio.sectors.overlaps(range) else { return nil }
        let overlap = bio.sectors.overlapCount(range)
        bio.remaining = bio.remaining > overlap ? bio.remaining - overlap : 0
        if error != 0, bio.error == 0 {
            bio.error = error
            bio.failedBy = s
        }
        guard bio.remaining == 0 else {
            block.bios[b] = bio
            return nil
        }
        if let i = outstandingIndex(of: b, bio.sectors) {
            let dev = bio.sectors.dev
            block.outstanding[dev]!.remove(at: i)
            if block.outstanding[dev]!.isEmpty { block.outstanding[dev] = nil }
        }
        block.bios[b] = nil
        for sub in bio.submissions { extents.bioCompleted(sub, bio: b, sectors: bio.sectors, at: node) }
        return CompletedBio(bio: bio.bound(b), error: bio.error, failedBy: bio.failedBy, writeback: bio.writeback)
    }
}
