/// `TraceStatistics` of one part of a text trace (`TextReader.forEachPart`),
/// counting events by their format number and CPU in arrays instead of
/// hashing every event's name and CPU: a part's format numbers are its own,
/// each for one event name, so the names are resolved once at the end.
struct TextPartStatistics: PerCPURecordSink {
    private var counted = TraceStatistics()
    private var byFormat: [UInt64] = []
    private var formatNames: [String] = []
    private var byCPU: [UInt64] = []

    /// Format numbers and CPUs beyond these go to the dictionaries.
    static let arrayLimit = 1 << 16

    mutating func consume(_ record: TraceRecord) throws {
        guard case .event(let event) = record,
              event.formatID >= 0, event.formatID < Self.arrayLimit, event.cpu >= 0, event.cpu < Self.arrayLimit
        else {
            counted.add(record)
            return
        }
        let id = Int(event.formatID)
        if id >= byFormat.count {
            byFormat.append(contentsOf: repeatElement(0, count: id + 1 - byFormat.count))
            formatNames.append(contentsOf: repeatElement("", count: id + 1 - formatNames.count))
        }
        if byFormat[id] == 0 { formatNames[id] = event.name }
        byFormat[id] += 1
        if event.cpu >= byCPU.count { byCPU.append(contentsOf: repeatElement(0, count: event.cpu + 1 - byCPU.count)) }
        byCPU[event.cpu] += 1
        counted.addSpanAndObjects(event)
    }

    /// The part's statistics, with the counts by number folded in.
    var statistics: TraceStatistics {
        var s = counted
        for (id, n) in byFormat.enumerated() where n > 0 { s.byEvent[formatNames[id], default: 0] += n }
        for (cpu, n) in byCPU.enumerated() where n > 0 { s.byCPU[cpu, default: 0] += n }
        return s
    }
}
