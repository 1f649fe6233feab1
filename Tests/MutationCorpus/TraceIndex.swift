import KernelEvents
import TraceIO

/// A source trace's events with their typed meaning (the project's
/// decoder), and the lookups the injections need: events per CPU, tasks,
/// the file systems' geometry. Positions are indices into `events`.
public struct TraceIndex: Sendable {
    public let source: SourceTrace
    /// The events in stream order (lost records left out; `lostBefore` keeps them).
    public let events: [TraceEvent]
    public let typed: [KernelEvent]
    /// Position in `source.records` of each event.
    public let recordPositions: [Int]
    /// Positions of each CPU's events, in order.
    public let byCPU: [Int: [Int]]
    /// Positions of each task's events, in order.
    public let byPid: [Int32: [Int]]
    /// The last known name of each task (`<...>` only when never resolved).
    public let comms: [Int32: String]
    public let maxPid: Int32
    public let geometries: [DeviceNumber: DeviceGeometry]
    /// Time windows in which the ring buffer lost events, per CPU: (previous event, next event].
    public let lostWindows: [(cpu: Int, from: UInt64, to: UInt64)]
    /// Where each lost-events mark (by position in `source.records`) sorts:
    /// its timestamp, or that of the event before it.
    public let lostMarkTimes: [Int: UInt64]
    /// Positions of the journal's handle starts and commit starts.
    public let journalEvents: [Int]
    /// Data writes of each inode's writeback (bios queued inside the
    /// submitter's `ext4_writepages` span), with their completions.
    public let writeback: [InodeKey: [WritebackBio]]

    public init(_ source: SourceTrace) {
        self.source = source
        var events: [TraceEvent] = []
        var typed: [KernelEvent] = []
        var positions: [Int] = []
        var byCPU: [Int: [Int]] = [:]
        var byPid: [Int32: [Int]] = [:]
        var comms: [Int32: String] = [:]
        var maxPid: Int32 = 0
        var decoder = KernelEventDecoder()
        var estimator = GeometryEstimator()
        var lastMapped: [Int32: (DeviceNumber, ExtentRange)] = [:]
        var pairs: [(fs: DeviceNumber, extent: ExtentRange, bio: SectorRange)] = []
        var lastByCPU: [Int: UInt64] = [:]
        var lost: [(cpu: Int, from: UInt64, to: UInt64)] = []
        var lostMarkTimes: [Int: UInt64] = [:]
        var journalEvents: [Int] = []
        var previous: UInt64 = 0
        for (p, r) in source.records.enumerated() {
            switch r {
            case .lost(let l):
                let from = lastByCPU[l.cpu] ?? 0
                lost.append((l.cpu, from, l.timestamp ?? .max))
                lostMarkTimes[p] = l.timestamp ?? previous
            case .event(let e):
                previous = e.timestamp
                let k = decoder.decode(e)
                byCPU[e.cpu, default: []].append(events.count)
                byPid[e.pid, default: []].append(events.count)
                events.append(e)
                typed.append(k)
                positions.append(p)
                lastByCPU[e.cpu] = e.timestamp
                if e.comm != "<...>" || comms[e.pid] == nil { comms[e.pid] = e.comm }
                maxPid = max(maxPid, e.pid)
                switch k {
                case .ext4(.mapBlocksExit(let ref, _, let extent, let result, let ret))
                    where ret > 0 && (result.contains(.mapped) || result.contains(.unwritten)):
                    lastMapped[e.pid] = (ref.dev, extent)
                case .block(.bioQueue(let io)) where io.rwbs.operation == .write:
                    if let (fs, extent) = lastMapped.removeValue(forKey: e.pid) {
                        estimator.observe(fs: fs, extent: extent, bio: io.range)
                        pairs.append((fs, extent, io.range))
                    }
                case .jbd2(.handleStart), .jbd2(.commit(.start, _, _)):
                    journalEvents.append(events.count - 1)
                default: break
                }
            }
        }
        // An overwritten ring buffer (the text header's counts) lost the oldest events.
        self.events = events
        self.typed = typed
        self.recordPositions = positions
        self.byCPU = byCPU
        self.byPid = byPid
        self.comms = comms
        self.maxPid = maxPid
        var geometries: [DeviceNumber: DeviceGeometry] = [:]
        for g in estimator.all() { geometries[g.fsDevice] = g }
        // Writeback may split an extent into bios of any size (a large folio
        // per bio): then the estimator, which needs bio = k × extent, has no
        // vote. The bio still starts at the extent's first block: on a whole
        // disk (a loop device) sector = pblk × k.
        for p in pairs where geometries[p.fs] == nil && p.extent.pblk > 0 && p.bio.sector % p.extent.pblk == 0 {
            let k = p.bio.sector / p.extent.pblk
            guard k >= 1, k <= 128, k & (k - 1) == 0 else { continue }
            geometries[p.fs] = DeviceGeometry(fsDevice: p.fs, diskDevice: p.bio.dev, blockSize: k * 512,
                                              startSector: 0, evidence: 1)
        }
        self.geometries = geometries
        self.lostWindows = lost
        self.lostMarkTimes = lostMarkTimes
        self.journalEvents = journalEvents
        self.writeback = Self.writebackBios(events: events, typed: typed)
    }

    /// One bio of an inode's writeback: queued at `queue`, data completed at `completion`.
    public struct WritebackBio: Sendable {
        public var queue: Int
        public var range: SectorRange
        public var completion: Int?
    }

    static func writebackBios(events: [TraceEvent], typed: [KernelEvent]) -> [InodeKey: [WritebackBio]] {
        var open: [Int32: InodeKey] = [:]
        var out: [InodeKey: [WritebackBio]] = [:]
        var inFlight: [(InodeKey, Int)] = []
        for (i, k) in typed.enumerated() {
            let pid = events[i].pid
            switch k {
            case .ext4(.writepages(let ref, _)): open[pid] = ref
            case .ext4(.writepagesResult): open[pid] = nil
            case .block(.bioQueue(let io)) where io.rwbs.operation == .write && io.range.count > 0:
                guard let ref = open[pid] else { break }
                out[ref, default: []].append(WritebackBio(queue: i, range: io.range, completion: nil))
                inFlight.append((ref, out[ref]!.count - 1))
            case .block(.requestComplete(let io, _)) where io.rwbs.operation == .write && io.range.count > 0:
                inFlight.removeAll { ref, b in
                    guard out[ref]![b].range.overlaps(io.range) else { return false }
                    out[ref]![b].completion = i
                    // A bio split in requests completes with its last one.
                    return io.range.end >= out[ref]![b].range.end
                }
            default: break
            }
        }
        return out
    }

    /// Bios of `inode`'s writeback queued before `t` and not completed by `t`.
    public func writebackInFlight(_ inode: InodeKey, at t: UInt64) -> [WritebackBio] {
        (writeback[inode] ?? []).filter { b in
            events[b.queue].timestamp < t && (b.completion.map { events[$0].timestamp > t } ?? true)
        }
    }

    public var count: Int { events.count }

    public func timestamp(_ i: Int) -> UInt64 { events[i].timestamp }

    /// Whether events may be missing anywhere in [from, to] (a lost window
    /// overlaps it, or the ring buffer was overwritten before `to`).
    public func lossTouches(from: UInt64, to: UInt64) -> Bool {
        let meta = source.metadata
        if let w = meta.entriesWritten, let b = meta.entriesInBuffer, w > b { return true }
        if meta.lostByCPU.values.contains(where: { $0 > 0 }) {
            // The overwrite horizon: before each such CPU's first retained event.
            for (cpu, n) in meta.lostByCPU where n > 0 {
                if let first = byCPU[cpu]?.first, from <= events[first].timestamp { return true }
            }
        }
        return lostWindows.contains { $0.from <= to && $0.to >= from }
    }

    /// Positions on `cpu` with timestamps in [from, to].
    public func onCPU(_ cpu: Int, from: UInt64, to: UInt64) -> ArraySlice<Int> {
        guard let list = byCPU[cpu] else { return [] }
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if events[list[mid]].timestamp < from { lo = mid + 1 } else { hi = mid }
        }
        var end = lo
        while end < list.count, events[list[end]].timestamp <= to { end += 1 }
        return list[lo..<end]
    }

    /// Positions of `pid`'s events with timestamps in [from, to].
    public func ofTask(_ pid: Int32, from: UInt64, to: UInt64) -> [Int] {
        (byPid[pid] ?? []).filter { events[$0].timestamp >= from && events[$0].timestamp <= to }
    }

    /// The CPUs the trace recorded (at least two are needed to place a pair on different CPUs).
    public var cpus: [Int] { byCPU.keys.sorted() }

    /// A CPU other than `cpu` that the trace shows activity on.
    public func otherCPU(than cpu: Int) -> Int? { cpus.first { $0 != cpu } }

    /// First position whose timestamp is ≥ `t`.
    public func firstIndex(atOrAfter t: UInt64) -> Int {
        var lo = 0, hi = events.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if events[mid].timestamp < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The first event of a given name (a template), if the trace has one.
    public func first(named name: String, where accept: (TraceEvent) -> Bool = { _ in true }) -> TraceEvent? {
        events.first { $0.name == name && accept($0) }
    }

    /// The generation of `inode` at position `p`, numbered as the trace
    /// allocates it (0: the first incarnation seen).
    public func generation(_ inode: InodeKey, at p: Int) -> UInt32 {
        var g = InodeGenerations()
        var current: UInt32 = 0
        for i in 0...min(p, count - 1) {
            switch typed[i] {
            case .ext4(.allocateInode(let ref)) where ref == inode: current = g.allocate(ref).generation
            case .ext4(let e) where e.inode == inode: current = g.resolve(inode).generation
            default: break
            }
        }
        return current
    }

    /// The context a completion irq on `cpu` prints as: the task the trace
    /// shows completing I/O there most often (ksoftirqd/N, or the idle task).
    public func irqContext(cpu: Int) -> Actor {
        var counts: [Int32: (Int, String)] = [:]
        for p in byCPU[cpu] ?? [] where events[p].name == "block_rq_complete" {
            let e = events[p]
            counts[e.pid, default: (0, e.comm)].0 += 1
        }
        if let best = counts.max(by: { $0.value.0 < $1.value.0 }) { return Actor(pid: best.key, comm: best.value.1, cpu: cpu) }
        return Actor(pid: 0, comm: "<idle>", cpu: cpu)
    }

    /// A new task id no task of the trace uses.
    public func newPid(_ k: Int32 = 1) -> Int32 { maxPid + k }
}
