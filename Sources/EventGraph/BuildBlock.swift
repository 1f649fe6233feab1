import KernelEvents
import TraceIO

struct RequestKey: Hashable {
    var dev: DeviceNumber
    var sector: UInt64
}

/// Bios and requests in flight, per disk.
struct BlockState {
    var bios: [BioRecord] = []
    /// Bios not yet completed, by device, sorted by start sector.
    var outstanding: [DeviceNumber: [Int32]] = [:]
    var longestBio: [DeviceNumber: UInt64] = [:]
    var requests: [RequestKey: RequestRecord] = [:]
    var requestCount = 0
    var flushCount = 0
    var pendingFlushes: [DeviceNumber: [Int32]] = [:]
    var devicesWithFlushIssue: Set<DeviceNumber> = []
    /// The data completion of a PREFLUSH/FUA request, awaiting the
    /// zero-length completion that ends its flush sequence.
    var flushSequences: [RequestKey: Int32] = [:]
    /// Start sectors seen queued or issued, per device, to tell a completion
    /// of I/O issued before the recording from one whose issue is missing.
    var seenSectors: [DeviceNumber: Set<UInt64>] = [:]
    var lastBioByPid: [Int32: Int32] = [:]
    /// Empty PREFLUSH bios (`FWS 0 + 0`, blkdev_issue_flush): they become a
    /// flush request (`FF`) and end with a zero-length completion.
    var emptyFlushBios: [DeviceNumber: [(bio: Int32, flushIssued: Bool)]] = [:]
    var lastFlushCompletion: [DeviceNumber: Int32] = [:]
}

extension EventGraphBuilder {
    mutating func handleBlock(_ e: BlockEvent, _ node: Int32) {
        let io = e.io
        nodes.details[Int(node)] = io.range.sector
        switch e {
        case .bioQueue(let io): queueBio(io, node)
        case .bioRemap(let io, let from): geometry.observeRemap(from: from, to: io.range)
        case .requestInsert(let io), .requestIssue(let io):
            if io.rwbs.isFlush && io.range.count == 0 {
                if case .requestIssue = e {
                    if let i = block.emptyFlushBios[io.range.dev]?.firstIndex(where: { !$0.flushIssued }) {
                        edges.append(block.emptyFlushBios[io.range.dev]![i].bio, node, .blockIO)
                        block.emptyFlushBios[io.range.dev]![i].flushIssued = true
                    }
                    block.pendingFlushes[io.range.dev, default: []].append(node)
                    block.devicesWithFlushIssue.insert(io.range.dev)
                    block.flushCount += 1
                }
            } else if io.range.count > 0 {
                startRequest(io, node, issue: { if case .requestIssue = e { return true } else { return false } }())
            }
        case .requestComplete(let io, _): complete(io, node, requestBased: true)
        case .bioComplete(let io, _): complete(io, node, requestBased: false)
        }
    }

    mutating func queueBio(_ io: BlockIO, _ node: Int32) {
        let pid = nodes.pids[Int(node)]
        let id = Int32(block.bios.count)
        block.bios.append(BioRecord(queued: node, pid: pid, dev: io.range.dev, sector: io.range.sector,
                                    count: io.range.count, flushSequence: io.rwbs.preflush || io.rwbs.fua,
                                    remaining: io.range.count))
        block.lastBioByPid[pid] = node
        block.seenSectors[io.range.dev, default: []].insert(io.range.sector)
        if let mapped = extents.lastMapped.removeValue(forKey: pid) {
            geometry.observe(fs: mapped.fs, extent: mapped.extent, bio: io.range)
        }
        guard io.range.count > 0 else {
            if io.rwbs.preflush { block.emptyFlushBios[io.range.dev, default: []].append((node, false)) }
            return
        }
        block.longestBio[io.range.dev] = max(block.longestBio[io.range.dev] ?? 0, io.range.count)
        var list = block.outstanding[io.range.dev] ?? []
        let at = lowerBound(list, io.range.sector)
        var i = at
        while i < list.count, block.bios[Int(list[i])].sector == io.range.sector { i += 1 }
        list.insert(id, at: i)
        block.outstanding[io.range.dev] = list
    }

    /// First index in `list` whose bio starts at or after `sector`.
    func lowerBound(_ list: [Int32], _ sector: UInt64) -> Int {
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if block.bios[Int(list[mid])].sector < sector { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Outstanding bios of `range.dev` overlapping `range`, oldest start first.
    func overlappingBios(_ range: SectorRange) -> [Int32] {
        guard let list = block.outstanding[range.dev], !list.isEmpty else { return [] }
        let reach = block.longestBio[range.dev] ?? 0
        var i = lowerBound(list, range.sector >= reach ? range.sector - reach : 0)
        var found: [Int32] = []
        while i < list.count {
            let bio = block.bios[Int(list[i])]
            if bio.sector >= range.end { break }
            if bio.range.overlaps(range) { found.append(list[i]) }
            i += 1
        }
        return found
    }

    mutating func startRequest(_ io: BlockIO, _ node: Int32, issue: Bool) {
        let key = RequestKey(dev: io.range.dev, sector: io.range.sector)
        block.seenSectors[io.range.dev, default: []].insert(io.range.sector)
        if var request = block.requests[key] {
            // Insert → issue, or a requeued request issued again.
            edges.append(request.last, node, .blockIO)
            if issue { request.issued = node } else { request.inserted = node }
            block.requests[key] = request
            return
        }
        var request = RequestRecord(sector: io.range.sector, count: io.range.count,
                                    preflushOrFUA: io.rwbs.preflush || io.rwbs.fua)
        if issue { request.issued = node } else { request.inserted = node }
        for b in overlappingBios(io.range) where block.bios[Int(b)].claimed < block.bios[Int(b)].count {
            let bio = block.bios[Int(b)]
            let overlap = bio.range.overlapCount(io.range)
            block.bios[Int(b)].claimed += overlap
            if bio.firstRequest < 0 { block.bios[Int(b)].firstRequest = node }
            request.bios.append(b)
            if bio.flushSequence { request.preflushOrFUA = true }
            edges.append(bio.queued, node, .blockIO)
        }
        block.requests[key] = request
        block.requestCount += 1
    }

    mutating func complete(_ io: BlockIO, _ node: Int32, requestBased: Bool) {
        let dev = io.range.dev
        if io.rwbs.isFlush && io.range.count == 0 {
            block.lastFlushCompletion[dev] = node
            if var fifo = block.pendingFlushes[dev], !fifo.isEmpty {
                edges.append(fifo.removeFirst(), node, .blockIO)
                block.pendingFlushes[dev] = fifo
            } else {
                addUnlinked(.bioCompletion, node, firstSighting: !block.devicesWithFlushIssue.contains(dev),
                            "flush completion on \(dev) without its issue")
            }
            return
        }
        let key = RequestKey(dev: dev, sector: io.range.sector)
        if io.range.count == 0 {
            // The end of a PREFLUSH/FUA sequence: completes the request whose data already completed.
            if let data = block.flushSequences.removeValue(forKey: key) {
                edges.append(data, node, .blockIO)
            } else if var empties = block.emptyFlushBios[dev], !empties.isEmpty {
                // The end of an empty PREFLUSH bio: after the flush it caused.
                let bio = empties.removeFirst().bio
                block.emptyFlushBios[dev] = empties.isEmpty ? nil : empties
                if let flush = block.lastFlushCompletion[dev], flush > bio {
                    edges.append(flush, node, .blockIO)
                } else {
                    edges.append(bio, node, .blockIO)
                }
            } else {
                addUnlinked(.bioCompletion, node, firstSighting: !(block.seenSectors[dev]?.contains(io.range.sector) ?? false),
                            "zero-length completion at \(io.range) without a data completion before it")
            }
            return
        }
        if requestBased, var request = block.requests.removeValue(forKey: key) {
            edges.append(request.last, node, .blockIO)
            for b in request.bios { finishBio(b, covering: io.range, node) }
            if request.preflushOrFUA { block.flushSequences[key] = node }
            if io.range.count < request.count {
                // Partial completion: the rest continues at the next sector.
                request.sector += io.range.count
                request.count -= io.range.count
                block.requests[RequestKey(dev: dev, sector: request.sector)] = request
            }
            return
        }
        // No request events (bio-based device, or not recorded): complete bios directly.
        let bios = overlappingBios(io.range)
        if !bios.isEmpty {
            for b in bios {
                edges.append(block.bios[Int(b)].queued, node, .blockIO)
                finishBio(b, covering: io.range, node)
            }
            return
        }
        addUnlinked(.bioCompletion, node, firstSighting: !(block.seenSectors[dev]?.contains(io.range.sector) ?? false),
                    "completion of \(io.range) without its issue")
    }

    /// Marks the part of bio `b` inside `range` complete; a bio whose last
    /// sector completed leaves the outstanding list.
    mutating func finishBio(_ b: Int32, covering range: SectorRange, _ node: Int32) {
        let bio = block.bios[Int(b)]
        guard bio.remaining > 0, bio.range.overlaps(range) else { return }
        let overlap = bio.range.overlapCount(range)
        let remaining = bio.remaining > overlap ? bio.remaining - overlap : 0
        block.bios[Int(b)].remaining = remaining
        guard remaining == 0 else { return }
        block.bios[Int(b)].completed = node
        if var list = block.outstanding[bio.dev] {
            var i = lowerBound(list, bio.sector)
            while i < list.count, list[i] != b, block.bios[Int(list[i])].sector == bio.sector { i += 1 }
            if i < list.count, list[i] == b { list.remove(at: i) }
            block.outstanding[bio.dev] = list.isEmpty ? nil : list
        }
    }
}
