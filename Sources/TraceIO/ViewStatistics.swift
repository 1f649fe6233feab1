/// `TraceStatistics` counted from a reader's views (`TraceReader.forEachView`)
/// in the reader's order, for a pass that feeds other consumers too (`stats`
/// with the event graph): the same counts as `TraceStatistics.add`, reading
/// a view's name, device and inode once per trace.dat event format rather
/// than building every event.
public struct ViewStatistics: Sendable {
    private var statistics = TraceStatistics()
    /// Per layout: its event name's count so far and where its device and inode fields are.
    private var layouts: [Layout] = []
    /// Layout number → index in `layouts` + 1 (0: not seen), for numbers
    /// from `layoutBase` on; numbers outside that range go to `farLayouts`.
    ///
    /// Why not one dictionary: three hashed look-ups per event were the
    /// largest part of this counting. A decoder numbers its layouts
    /// consecutively, so the numbers of one pass lie close together.
    private var layoutSlots: [Int32] = []
    private var layoutBase: Int?
    private var farLayouts: [Int: Int] = [:]
    /// Events per CPU, for CPUs 0..<`cpuLimit` (others in `statistics.byCPU`).
    private var byCPU: [UInt64] = []
    private static let cpuLimit = 4096
    private static let slotRange = 1 << 16
    /// The device and inode inserted last: runs of events name the same ones.
    private var lastDevice: DeviceNumber?
    private var lastInode: InodeKey?

    private struct Layout: Sendable {
        var name: String
        var count: UInt64 = 0
        var dev: Int?, sDev: Int?, bdi: Int?, ino: Int?, iIno: Int?
    }

    public init() {}

    public mutating func add(_ record: TraceRecordView) {
        switch record {
        case .event(let view): add(view)
        case .lost(let lost): statistics.add(.lost(lost))
        }
    }

    public mutating func add(_ view: EventView) {
        guard let id = view.layout else {
            statistics.add(.event(view.event()))
            return
        }
        let slot = slot(of: id, view)
        layouts[slot].count += 1
        statistics.events += 1
        let cpu = view.cpu
        if cpu >= 0, cpu < Self.cpuLimit {
            if cpu >= byCPU.count { byCPU.append(contentsOf: repeatElement(0, count: cpu + 1 - byCPU.count)) }
            byCPU[cpu] += 1
        } else {
            statistics.byCPU[cpu, default: 0] += 1
        }
        let t = view.timestamp
        if statistics.firstTimestamp.map({ t < $0 }) ?? true { statistics.firstTimestamp = t }
        if statistics.lastTimestamp.map({ t > $0 }) ?? true { statistics.lastTimestamp = t }
        // As `TraceEvent.device` and `TraceStatistics.add`.
        func value(_ index: Int?) -> FieldValue? { index.flatMap { view.value(at: $0) } }
        var device = value(layouts[slot].dev)?.device ?? value(layouts[slot].sDev)?.device
        if device == nil, let bdi = value(layouts[slot].bdi)?.stringValue { device = DeviceNumber(bdi) }
        guard let dev = device else { return }
        if dev != lastDevice {
            statistics.devices.insert(dev)
            lastDevice = dev
        }
        if let ino = value(layouts[slot].ino)?.uint64 ?? value(layouts[slot].iIno)?.uint64 {
            let key = InodeKey(dev: dev, ino: ino)
            if key != lastInode {
                statistics.inodes.insert(key)
                lastInode = key
            }
        }
    }

    /// The index in `layouts` of layout `id`, made from `view` when new.
    private mutating func slot(of id: Int, _ view: EventView) -> Int {
        let base = layoutBase ?? id
        layoutBase = base
        let offset = id - base
        let near = offset >= 0 && offset < Self.slotRange
        if near, offset < layoutSlots.count, layoutSlots[offset] != 0 { return Int(layoutSlots[offset]) - 1 }
        if !near, let slot = farLayouts[id] { return slot }
        let slot = layouts.count
        layouts.append(Layout(name: view.name, dev: view.fieldIndex("dev"), sDev: view.fieldIndex("s_dev"),
                              bdi: view.fieldIndex("name"), ino: view.fieldIndex("ino"), iIno: view.fieldIndex("i_ino")))
        if near {
            if offset >= layoutSlots.count {
                layoutSlots.append(contentsOf: repeatElement(0, count: offset + 1 - layoutSlots.count))
            }
            layoutSlots[offset] = Int32(slot + 1)
        } else {
            farLayouts[id] = slot
        }
        return slot
    }

    /// The counts, with the per-format event names and per-CPU counts folded in.
    public func finish() -> TraceStatistics {
        var s = statistics
        for layout in layouts where layout.count > 0 { s.byEvent[layout.name, default: 0] += layout.count }
        for (cpu, count) in byCPU.enumerated() where count > 0 { s.byCPU[cpu, default: 0] += count }
        return s
    }
}
