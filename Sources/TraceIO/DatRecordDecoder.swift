import CTrace
import Glibc
import Synchronization

/// A plain mutex (see `DatRecordDecoder.tepLock`): what it guards returns
/// values that are not `Sendable`, which `Mutex.withLock` does not allow.
final class DatTepLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    func run<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// The per-format part of decoding, computed once per event id: names as Swift
/// strings (shared by every event of the format) and the fields to decode.
/// A class: each event fetches its format, and one reference count is
/// cheaper than one per member.
final class DatEventFormat {
    let name: String
    let system: String?
    /// The selected fields' names, in format order, and where each one is
    /// (`slots[i]` is `fieldNames[i]`'s): apart, so that reading a value
    /// copies no name.
    let fieldNames: [String]
    let slots: [DatFieldSlot]
    /// The file has a format for this event id.
    let known: Bool
    /// The payload size every record of the format has at least: the end of
    /// its last fixed field (a `__data_loc` field's 4-byte locator counts).
    let minimumSize: Int
    /// A number no other format object of this process has: an `EventView`'s
    /// `layout`, under which consumers may cache field indices.
    let layout: Int

    /// Hands out `layout` numbers; shared by every decoder (of every thread).
    private static let layouts = Atomic<Int>(0)

    init(name: String, system: String?, fields: [DatFieldPlan], known: Bool, minimumSize: Int) {
        self.name = name
        self.system = system
        fieldNames = fields.map(\.name)
        slots = fields.map(\.slot)
        self.known = known
        self.minimumSize = minimumSize
        layout = Self.layouts.add(1, ordering: .relaxed).newValue
    }
}

/// Turns libtracecmd records into `TraceEvent`s, or into `EventView`s that
/// read a field only when asked. One decoder belongs to one thread; it caches
/// formats per event id, task names per pid and symbols per address, so the
/// per-event cost is the field reads (and, for a `TraceEvent`, the
/// allocation of the fields array). Decoders on several threads may share a
/// `tep_handle`: what they look up in it goes through `tepLock`.
struct DatRecordDecoder {
    /// libtraceevent caches what its lookups find in the `tep_handle` (the
    /// last event found, the pid and function tables it builds on first
    /// use), so that concurrent lookups in one handle race: every decoder
    /// takes this lock for them. It is taken only on a cache miss (a new
    /// event id, pid or address).
    static let tepLock = DatTepLock()

    let tep: OpaquePointer
    let selection: FieldSelection
    private let reader: DatFieldReader
    /// By event id; `keptFormats` owns them.
    private var formats: [Unmanaged<DatEventFormat>?] = []
    private var keptFormats: [DatEventFormat] = []
    private var uncachedFormat: DatEventFormat?
    private var comms: [Int32: String] = [:]
    /// Consecutive events mostly come from one task: skip the hash lookup.
    private var lastPid: Int32 = -1
    private var lastComm = ""
    private var symbols: DatSymbolTable
    /// Where every record keeps its event id and pid (the common_* fields,
    /// the same for all formats of a file); nil: no record can be decoded.
    private let typeField: (offset: Int, size: Int)?
    private let pidField: (offset: Int, size: Int)?
    /// A record never spans pages: one that reaches past its page has a
    /// damaged length field (kbuffer takes lengths from the page as is).
    let pageSize: Int

    /// `pageSize`: the ring-buffer page size of the records' buffer
    /// (`tracecmd_page_size`; the `tep_handle` has none: libtracecmd never
    /// sets it).
    init(tep: OpaquePointer, selection: FieldSelection, pageSize: Int) {
        self.tep = tep
        self.selection = selection
        symbols = DatSymbolTable(tep: tep)
        var typeField: (Int, Int)?
        var pidField: (Int, Int)?
        var swapBytes = false
        Self.tepLock.run {
            swapBytes = tep_is_file_bigendian(tep) != tep_is_local_bigendian(tep)
            if tep_get_events_count(tep) > 0, let event = tep_get_event(tep, 0) {
                if let f = tep_find_common_field(event, "common_type") {
                    typeField = (Int(f.pointee.offset), Int(f.pointee.size))
                }
                if let f = tep_find_common_field(event, "common_pid") {
                    pidField = (Int(f.pointee.offset), Int(f.pointee.size))
                }
            }
        }
        reader = DatFieldReader(swapBytes: swapBytes)
        self.typeField = typeField
        self.pidField = pidField
        self.pageSize = pageSize > 0 ? pageSize : 1 << 20
    }

    /// The event in `record`, read on `cpu`; nil for a damaged record — an
    /// event id the file has no format for, a payload shorter than its
    /// format's fields or reaching past its page — which readers skip and count
    /// (`damagedEvents`).
    mutating func decode(_ record: UnsafeMutablePointer<tep_record>, cpu: Int) -> TraceEvent? {
        withUnsafeMutablePointer(to: &self) { Self.view(of: record, cpu: cpu, decoder: $0)?.event() }
    }

    /// `record` as a view whose fields are read on request through `decoder`
    /// (for its symbol and task name caches); nil for a damaged record, as
    /// for `decode`. The view is valid while both the record and the decoder are.
    static func view(
        of record: UnsafeMutablePointer<tep_record>, cpu: Int, decoder: UnsafeMutablePointer<DatRecordDecoder>
    ) -> EventView? {
        let inPage = Int(record.pointee.offset % UInt64(decoder.pointee.pageSize))
        return view(data: wbr_record_data(record).map(UnsafeRawPointer.init), size: Int(record.pointee.size),
                    recordSize: Int(record.pointee.record_size), inPage: inPage, timestamp: record.pointee.ts,
                    cpu: cpu, decoder: decoder)
    }

    /// The same for a record of a page walked without libtracecmd
    /// (`DatPageWalker`): the same checks, the same view.
    @inline(__always)
    static func view(
        of record: DatPageRecord, cpu: Int, decoder: UnsafeMutablePointer<DatRecordDecoder>
    ) -> EventView? {
        view(data: record.data, size: Int(record.size), recordSize: Int(record.recordSize),
             inPage: Int(record.inPage), timestamp: record.timestamp, cpu: cpu, decoder: decoder)
    }

    /// The event of `record` (walked without libtracecmd); nil when damaged.
    mutating func decode(_ record: DatPageRecord, cpu: Int) -> TraceEvent? {
        withUnsafeMutablePointer(to: &self) { Self.view(of: record, cpu: cpu, decoder: $0)?.event() }
    }

    @inline(__always)
    private static func view(
        data: UnsafeRawPointer?, size: Int, recordSize: Int, inPage: Int, timestamp: UInt64, cpu: Int,
        decoder: UnsafeMutablePointer<DatRecordDecoder>
    ) -> EventView? {
        // Through mutating methods only: `pointee` then stays in place, where
        // a non-mutating call copied the whole decoder (a tenth of a replay's
        // reading thread).
        guard let (data, size, id, pid, format) = decoder.pointee.open(
            data: data, size: size, recordSize: recordSize, inPage: inPage)
        else { return nil }
        let payload = DatRecordView(format: format, data: data, size: size, pid: pid, decoder: decoder)
        return EventView(payload, timestamp: timestamp, cpu: cpu, pid: pid,
                         formatID: Int32(truncatingIfNeeded: id), layout: format._withUnsafeGuaranteedRef { $0.layout })
    }

    /// The payload, its size, event id, pid and format of a record (`size`
    /// payload bytes at `data`, `recordSize` bytes with its header from
    /// `inPage` in its page); nil when the record is damaged: its length
    /// reaches past its page, it is too short for its common fields or its
    /// format's, or its event id has no format. Mutating because it caches
    /// the format.
    private mutating func open(data: UnsafeRawPointer?, size: Int, recordSize: Int, inPage: Int) -> (
        data: UnsafeRawPointer, size: Int, id: Int, pid: Int32, format: Unmanaged<DatEventFormat>
    )? {
        // kbuffer returns a record whose claimed length runs past its page
        // (or wraps around); its bytes past the page are not the record's.
        guard size >= 0, size <= pageSize, recordSize >= size, inPage + recordSize <= pageSize else { return nil }
        let raw = data
        // A record too short for its common fields is damaged; libtraceevent's
        // tep_data_type/tep_data_pid would read them regardless of its size.
        guard let raw, let (typeOffset, typeWidth) = typeField, typeOffset + typeWidth <= size,
              let (pidOffset, pidWidth) = pidField, pidOffset + pidWidth <= size
        else { return nil }
        let id = Int(reader.unsigned(raw, typeOffset, typeWidth))
        let pid = Int32(truncatingIfNeeded: reader.signed(raw, pidOffset, pidWidth))
        let format = cachedFormat(id: id)
        guard format._withUnsafeGuaranteedRef({ $0.known && size >= $0.minimumSize }) else { return nil }
        return (raw, size, id, pid, format)
    }

    /// The value of the field at `slot` in a payload of `size` bytes; nil
    /// when the payload is too short for it.
    mutating func value(_ slot: DatFieldSlot, data: UnsafeRawPointer, size: Int) -> FieldValue? {
        reader.value(slot, data: data, size: size, symbols: &symbols)
    }

    /// The task name recorded for `pid` (`<...>` when the file has none, as
    /// `trace-cmd report` prints).
    mutating func comm(pid: Int32) -> String {
        if pid == lastPid { return lastComm }
        let name: String
        if let cached = comms[pid] {
            name = cached
        } else {
            name = Self.tepLock.run { tep_data_comm_from_pid(tep, pid).map { String(cString: $0) } } ?? "<...>"
            comms[pid] = name
        }
        lastPid = pid
        lastComm = name
        return name
    }

    /// The format of event `id`, built on first use, without a reference
    /// count: the decoder holds every format it returns for as long as it
    /// lives (`keptFormats`) — except for an id too large to cache (only
    /// damaged records have one), whose format lives until the next such id.
    private mutating func cachedFormat(id: Int) -> Unmanaged<DatEventFormat> {
        if id >= 0, id < formats.count, let known = formats[id] { return known }
        let built = Self.tepLock.run { buildFormat(id: id) }
        guard id >= 0, id < 1 << 20 else {
            uncachedFormat = built
            return Unmanaged.passUnretained(built)
        }
        keptFormats.append(built)
        if id >= formats.count { formats.append(contentsOf: repeatElement(nil, count: id + 1 - formats.count)) }
        formats[id] = Unmanaged.passUnretained(built)
        return Unmanaged.passUnretained(built)
    }

    private func buildFormat(id: Int) -> DatEventFormat {
        guard id >= 0, let event = tep_find_event(tep, Int32(truncatingIfNeeded: id)) else {
            // An id with no format in the file: a damaged record.
            return DatEventFormat(name: "unknown_event_\(id)", system: nil, fields: [], known: false, minimumSize: 0)
        }
        let name = event.pointee.name.map { String(cString: $0) } ?? "unknown_event_\(id)"
        let system = event.pointee.system.map { String(cString: $0) }
        var plans: [DatFieldPlan] = []
        let selection = self.selection.forEvent(name)
        if case .none = selection {} else {
            let symbolFields = DatSymbolFields.find(in: event)
            // format.fields lists the event's own fields; common_* live in
            // common_fields and are exposed as cpu/pid instead.
            var field = event.pointee.format.fields
            while let f = field {
                if let plan = DatFieldPlan(f, symbols: symbolFields), selection.includes(plan.name),
                   !plan.name.hasPrefix("common_") {
                    plans.append(plan)
                }
                field = f.pointee.next
            }
        }
        var minimumSize = 0
        for first in [event.pointee.format.common_fields, event.pointee.format.fields] {
            var field = first
            while let f = field {
                minimumSize = max(minimumSize, Int(f.pointee.offset) + max(0, Int(f.pointee.size)))
                field = f.pointee.next
            }
        }
        return DatEventFormat(name: name, system: system, fields: plans, known: true, minimumSize: minimumSize)
    }
}
