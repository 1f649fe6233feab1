/// What `wbreplay stats` reports about a trace: counts per event and CPU,
/// lost events, time span, devices and inodes. Accumulates one record at a
/// time and merges, so that per-CPU readers can count in parallel.
public struct TraceStatistics: Sendable {
    public var events: UInt64 = 0
    public var byEvent: [String: UInt64] = [:]
    public var byCPU: [Int: UInt64] = [:]
    /// Lost events seen in the stream; `unknownLossCPUs` holds CPUs that
    /// reported a loss of unknown size.
    public var lostByCPU: [Int: UInt64] = [:]
    public var unknownLossCPUs: Set<Int> = []
    public var firstTimestamp: UInt64?
    public var lastTimestamp: UInt64?
    public var devices: Set<DeviceNumber> = []
    public var inodes: Set<InodeKey> = []
    /// Damaged records the reader skipped (`TraceReader.damagedEvents`).
    public var damagedEvents: UInt64 = 0
    /// The device and inode `add` inserted last.
    private var lastDevice: DeviceNumber?
    private var lastInode: InodeKey?

    public init() {}

    /// The fields `add` looks at: decode only these for speed.
    public static let neededFields: FieldSelection =
        .named(TraceEvent.deviceFieldNames.union(TraceEvent.inodeFieldNames))

    public mutating func add(_ record: TraceRecord) {
        switch record {
        case .event(let event):
            byEvent[event.name, default: 0] += 1
            byCPU[event.cpu, default: 0] += 1
            addSpanAndObjects(event)
        case .lost(let lost):
            if let count = lost.count {
                lostByCPU[lost.cpu, default: 0] += count
            } else {
                unknownLossCPUs.insert(lost.cpu)
                lostByCPU[lost.cpu, default: 0] += 0
            }
        }
    }

    /// What `add` counts of an event besides its name and CPU: the event,
    /// the time span, the device and inode it names.
    mutating func addSpanAndObjects(_ event: TraceEvent) {
        events += 1
        if firstTimestamp.map({ event.timestamp < $0 }) ?? true { firstTimestamp = event.timestamp }
        if lastTimestamp.map({ event.timestamp > $0 }) ?? true { lastTimestamp = event.timestamp }
        if let dev = event.device {
            // Runs of events name one device and inode: the sets only grow,
            // so the last one inserted needs no hashing.
            if dev != lastDevice {
                devices.insert(dev)
                lastDevice = dev
            }
            if let ino = event.fields.uint("ino") ?? event.fields.uint("i_ino") {
                let key = InodeKey(dev: dev, ino: ino)
                if key != lastInode {
                    inodes.insert(key)
                    lastInode = key
                }
            }
        }
    }

    public mutating func merge(_ other: TraceStatistics) {
        events += other.events
        byEvent.merge(other.byEvent, uniquingKeysWith: +)
        byCPU.merge(other.byCPU, uniquingKeysWith: +)
        lostByCPU.merge(other.lostByCPU, uniquingKeysWith: +)
        unknownLossCPUs.formUnion(other.unknownLossCPUs)
        if let t = other.firstTimestamp, firstTimestamp.map({ t < $0 }) ?? true { firstTimestamp = t }
        if let t = other.lastTimestamp, lastTimestamp.map({ t > $0 }) ?? true { lastTimestamp = t }
        devices.formUnion(other.devices)
        inodes.formUnion(other.inodes)
        damagedEvents += other.damagedEvents
    }

    /// Folds in the losses a file records in its header or statistics
    /// (trace.dat per-CPU stats, a text header whose entries-written exceeds
    /// its entries-in-buffer), taking the larger of stream and header per CPU
    /// so that one loss is not counted twice.
    public mutating func include(_ metadata: TraceMetadata) {
        for (cpu, count) in metadata.lostByCPU where count > lostByCPU[cpu] ?? 0 {
            lostByCPU[cpu] = count
        }
    }
}

extension TraceStatistics: PerCPURecordSink {
    public mutating func consume(_ record: TraceRecord) throws { add(record) }
}

extension TraceStatistics {
    /// Counts every record of a trace, decoding only the fields statistics
    /// need. Order does not matter to counting, so a trace is read in
    /// parallel — a trace.dat in parts of each CPU's stream, a text trace in
    /// runs of lines — and the counts merged.
    public static func collect(from reader: any TraceReader) throws -> TraceStatistics {
        let options = ReadOptions(fields: neededFields, keepRawText: false)
        if let dat = reader as? DatReader {
            // Page ranges, not whole CPUs: one CPU often holds most events.
            var stats = try dat.forEachPartition(options) { _ in TraceStatistics() }
                .reduce(into: TraceStatistics()) { $0.merge($1.sink) }
            stats.damagedEvents = UInt64(dat.damagedEvents)
            return stats
        }
        if let text = reader as? TextReader {
            var stats = try text.forEachPart(options) { _ in TextPartStatistics() }
                .reduce(into: TraceStatistics()) { $0.merge($1.statistics) }
            stats.damagedEvents = UInt64(text.damagedEvents)
            return stats
        }
        var stats = TraceStatistics()
        try reader.forEach(options) { stats.add($0) }
        stats.damagedEvents = UInt64(reader.damagedEvents)
        return stats
    }
}
