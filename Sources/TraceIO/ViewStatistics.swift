/// `TraceStatistics` counted from a reader's views (`TraceReader.forEachView`)
/// in the reader's order, for a pass that feeds other consumers too (`stats`
/// with the event graph): the same counts as `TraceStatistics.add`, reading
/// a view's name, device and inode once per trace.dat event format rather
/// than building every event.
public struct ViewStatistics: Sendable {
    public private(set) var statistics = TraceStatistics()
    /// Per layout: its event name's count so far and where its device and inode fields are.
    private var layouts: [Int: Layout] = [:]

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
        if layouts[id] == nil {
            layouts[id] = Layout(name: view.name, dev: view.fieldIndex("dev"), sDev: view.fieldIndex("s_dev"),
                                 bdi: view.fieldIndex("name"), ino: view.fieldIndex("ino"), iIno: view.fieldIndex("i_ino"))
        }
        layouts[id]!.count += 1
        let layout = layouts[id]!
        statistics.events += 1
        statistics.byCPU[view.cpu, default: 0] += 1
        let t = view.timestamp
        if statistics.firstTimestamp.map({ t < $0 }) ?? true { statistics.firstTimestamp = t }
        if statistics.lastTimestamp.map({ t > $0 }) ?? true { statistics.lastTimestamp = t }
        // As `TraceEvent.device` and `TraceStatistics.add`.
        func value(_ index: Int?) -> FieldValue? { index.flatMap { view.value(at: $0) } }
        var device = value(layout.dev)?.device ?? value(layout.sDev)?.device
        if device == nil, let bdi = value(layout.bdi)?.stringValue { device = DeviceNumber(bdi) }
        guard let dev = device else { return }
        statistics.devices.insert(dev)
        if let ino = value(layout.ino)?.uint64 ?? value(layout.iIno)?.uint64 {
            statistics.inodes.insert(InodeKey(dev: dev, ino: ino))
        }
    }

    /// The counts, with the per-format event names folded in.
    public func finish() -> TraceStatistics {
        var s = statistics
        for layout in layouts.values where layout.count > 0 { s.byEvent[layout.name, default: 0] += layout.count }
        return s
    }
}
