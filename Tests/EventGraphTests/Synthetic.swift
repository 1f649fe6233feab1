import TraceIO
@testable import EventGraph

/// Builds synthetic event streams shaped like the 6.18 traces.
struct Synthetic {
    var records: [TraceRecord] = []
    var now: UInt64 = 1_000_000
    let dev = DeviceNumber(major: 7, minor: 0)

    var count: Int { records.count { if case .event = $0 { return true } else { return false } } }

    /// Appends an event and returns its node index.
    @discardableResult
    mutating func add(_ name: String, pid: Int32 = 100, cpu: Int = 0, _ fields: [(String, FieldValue)] = []) -> Int {
        now += 1000
        let index = count
        records.append(.event(TraceEvent(timestamp: now, cpu: cpu, pid: pid, comm: "task\(pid)", name: name,
                                         fields: EventFields(fields.map { EventField($0.0, $0.1) }))))
        return index
    }

    mutating func lost(cpu: Int) { records.append(.lost(LostEvents(cpu: cpu, count: 10, timestamp: now))) }

    var d: FieldValue { .device(dev) }

    // ext4
    @discardableResult
    mutating func mapExitPreIO(pid: Int32 = 100, ino: UInt64 = 12, lblk: UInt64, pblk: UInt64, len: UInt64 = 1) -> Int {
        add("ext4_ext_map_blocks_enter", pid: pid, [("dev", d), ("ino", .unsigned(ino)), ("lblk", .unsigned(lblk)), ("len", .unsigned(len)), ("flags", .unsigned(0x4000_042B))])
        return add("ext4_ext_map_blocks_exit", pid: pid, [("dev", d), ("ino", .unsigned(ino)), ("flags", .unsigned(0x4000_042B)),
                                                          ("pblk", .unsigned(pblk)), ("lblk", .unsigned(lblk)), ("len", .unsigned(len)),
                                                          ("mflags", .unsigned(1 << 5 | 1 << 4 | 1 << 11)), ("ret", .signed(Int64(len)))])
    }

    @discardableResult
    mutating func convert(pid: Int32 = 50, cpu: Int = 1, ino: UInt64 = 12, lblk: UInt64, pblk: UInt64, len: UInt64 = 1) -> Int {
        add("ext4_ext_handle_unwritten_extents", pid: pid, cpu: cpu, [("dev", d), ("ino", .unsigned(ino)), ("flags", .signed(0x4000_0433)),
                                                                     ("lblk", .unsigned(lblk)), ("pblk", .unsigned(pblk)), ("len", .unsigned(len)),
                                                                     ("allocated", .unsigned(len)), ("newblk", .unsigned(pblk))])
    }

    @discardableResult
    mutating func esInsert(pid: Int32 = 50, cpu: Int = 1, ino: UInt64 = 12, lblk: UInt64, pblk: UInt64, len: UInt64 = 1, status: UInt64) -> Int {
        add("ext4_es_insert_extent", pid: pid, cpu: cpu, [("dev", d), ("ino", .unsigned(ino)), ("lblk", .unsigned(lblk)), ("len", .unsigned(len)),
                                                         ("pblk", .unsigned(pblk)), ("status", .unsigned(status))])
    }

    @discardableResult
    mutating func inodeEvent(_ name: String, pid: Int32 = 100, ino: UInt64) -> Int {
        add(name, pid: pid, [("dev", d), ("ino", .unsigned(ino))])
    }

    // block
    @discardableResult
    mutating func block(_ name: String, pid: Int32 = 100, cpu: Int = 0, rwbs: String = "WS", sector: UInt64, nr: UInt64) -> Int {
        var f: [(String, FieldValue)] = [("dev", d), ("sector", .unsigned(sector)), ("nr_sector", .unsigned(nr)), ("rwbs", .string(rwbs))]
        if name == "block_rq_complete" { f.append(("error", .signed(0))) }
        return add(name, pid: pid, cpu: cpu, f)
    }

    // workqueue
    @discardableResult
    mutating func work(_ name: String, pid: Int32, cpu: Int = 0, work: UInt64 = 0xBEEF, function: String = "ext4_end_io_rsv_work") -> Int {
        add(name, pid: pid, cpu: cpu, [("work", .unsigned(work)), ("function", .string(function))])
    }

    /// A whole unwritten-extent story: writeback maps and submits, the disk
    /// completes, the rsv-conversion worker converts. Returns its key events.
    mutating func conversionStory(lblk: UInt64, pblk: UInt64, work: UInt64 = 0xBEEF)
        -> (submit: Int, bio: Int, complete: Int, queue: Int, start: Int, convert: Int, written: Int, end: Int) {
        let submit = mapExitPreIO(lblk: lblk, pblk: pblk)
        _ = esInsert(pid: 100, cpu: 0, lblk: lblk, pblk: pblk, status: 2)
        let bio = block("block_bio_queue", sector: pblk * 8, nr: 8)
        block("block_rq_insert", sector: pblk * 8, nr: 8)
        block("block_rq_issue", sector: pblk * 8, nr: 8)
        let complete = block("block_rq_complete", pid: 14, sector: pblk * 8, nr: 8)
        let queue = self.work("workqueue_queue_work", pid: 14, work: work)
        self.work("workqueue_activate_work", pid: 14, work: work)
        let start = self.work("workqueue_execute_start", pid: 50, cpu: 1, work: work)
        add("ext4_journal_start_reserved", pid: 50, cpu: 1, [("dev", d), ("ip", .string("ext4_convert_unwritten_io_end_vec+0x2d/0x100")), ("blocks", .signed(18))])
        let convert = convert(lblk: lblk, pblk: pblk)
        let written = esInsert(lblk: lblk, pblk: pblk, status: 1)
        let end = self.work("workqueue_execute_end", pid: 50, cpu: 1, work: work)
        return (submit, bio, complete, queue, start, convert, written, end)
    }

    func graph(lossBeforeStart: Bool = false) -> EventGraph {
        var b = EventGraphBuilder()
        b.lossBeforeStart = lossBeforeStart
        for r in records { b.add(r) }
        return b.finish()
    }
}
