import CTrace
import Glibc

/// Reads trace-cmd trace.dat files (v6 and v7, compressed or not) through
/// libtracecmd and libtraceevent.
///
/// Fields come from the event formats stored in the file: common_* fields are
/// exposed as `cpu`/`pid` only; `dev_t` fields become `.device`; signed
/// integers `.signed`; unsigned integers and pointers `.unsigned`; char arrays
/// and `__data_loc char[]` `.string` (up to the first NUL); other arrays are
/// skipped. Fields the event's print format shows as kernel symbols (`%ps`,
/// `%pS`: `workqueue_*`'s `function`, ext4's `ip`) become `.string` with the
/// symbol as `trace-cmd report` prints it (`ext4_end_io_rsv_work`,
/// `__ext4_new_inode+0xdd7`), resolved through the kallsyms in the file; the
/// kernel's text adds `/0xsize` to `%pS`, which the file cannot know. Data
/// addresses (iomap's `ops`) stay `0x…` hex strings, as the kernel prints them.
/// A string's final newline (trace_marker text) is dropped.
///
/// Three ways through the records: `forEach` (global timestamp order;
/// `forEachView` the same without building events), `forEachPerCPU` (one
/// sink per CPU, CPUs in parallel) and `forEachPartition` (page ranges of
/// about equal size in parallel: fastest when order does not matter).
///
/// libtracecmd opens and checks the file and gives the formats; the records
/// are read from the ring-buffer pages directly (`DatPageReading`: pages
/// decompressed and walked on worker threads, merged in order on the calling
/// one), or through libtracecmd's record iterator (`recordPath`), which gives
/// the same records and is what a file the page reading does not cover
/// (a guest trace synced to its host's clock) is read with.
///
/// A reader keeps one libtracecmd handle: use it from one thread at a time.
public final class DatReader: TraceReader {
    /// Where records come from: the pages read directly, or libtracecmd's
    /// iterator (`tracecmd_read_data`).
    public enum RecordPath: String, Sendable {
        case pages
        case libtracecmd
    }

    public let path: String
    public let metadata: TraceMetadata
    let handle: DatHandle
    /// Record bytes between renewals of the data handle (see `DatHandle`);
    /// nil: `DatCPUMerge.defaultRenewalBytes`. Tests lower it to exercise
    /// renewal on small files.
    var renewalBytes: Int?
    /// The smallest partition `forEachPartition` makes; tests lower it.
    var partitionMinimumBytes = DatPartitionPlan.minimumBytes
    /// Records of the last pass that were skipped as damaged: an event id
    /// the file has no format for, or a payload shorter than its format.
    public private(set) var damagedEvents = 0
    /// See `TraceReader.fractionRead`: refreshed every
    /// `progressInterval` records of a `forEach`/`forEachView` pass.
    public private(set) var fractionRead: Double?
    static let progressInterval = 4096

    /// The names of the event formats stored in the file.
    public var eventNames: Set<String>? {
        let tep = handle.tep
        var names: Set<String> = []
        for i in 0..<max(0, tep_get_events_count(tep)) {
            if let event = tep_get_event(tep, i), let name = event.pointee.name { names.insert(String(cString: name)) }
        }
        return names
    }

    /// The way records are read: `.pages` (the default) falls back to
    /// libtracecmd for a file the page reading does not cover;
    /// `.libtracecmd` always uses libtracecmd's iterator (to compare the
    /// two). The environment variable `WBREPLAY_DAT_RECORDS=libtracecmd`
    /// sets the default for every reader of the process.
    public var recordPath: RecordPath
    /// The way the last pass read its records.
    public private(set) var lastRecordPath: RecordPath?
    /// Made on first use, and only once (nil inside: libtracecmd's iterator).
    private var pageReadingMade: DatPageReading??

    /// Opens `path`. `instance` picks a buffer instance by name ("" is the top
    /// level); without it the reader takes the top level when it has events,
    /// else the one instance that has (`trace-cmd extract -B NAME` leaves the
    /// top level empty). Throws `TraceError` for files it cannot read.
    public convenience init(path: String, instance: String? = nil) throws {
        try self.init(path: path, instance: instance, openProbe: true)
    }

    /// For the fuzz target only (Fuzz/Sources/FuzzDatReader): `openProbe:
    /// false` skips `DatOpenProbe`, so libtracecmd and libtraceevent parse the
    /// input in the calling process, after the same checks as always
    /// (`DatV6Truncation`, `DatV7Header`, `DatV7Chunks`, and the header_page,
    /// event format and ring-buffer page checks they run).
    ///
    /// Why: the probe forks a child per file, which caps a sanitizer build at
    /// tens of inputs per second, and it hides what it catches — a file that
    /// crashes libtracecmd is refused, not reported. Without it a crash inside
    /// libtracecmd is a crash of the fuzz target, which is what the fuzzer is
    /// for: each one found becomes a check that refuses that damage before
    /// libtracecmd sees it. Users never pass it; the CLI has no such option.
    @_spi(Fuzzing) public init(path: String, instance: String? = nil, openProbe: Bool) throws {
        let handle = try DatHandle(path: path, requested: instance, openProbe: openProbe)
        self.handle = handle
        self.path = path
        metadata = DatMetadata.read(handle)
        recordPath = getenv("WBREPLAY_DAT_RECORDS").map { String(cString: $0) } == RecordPath.libtracecmd.rawValue
            ? .libtracecmd : .pages
    }

    /// The page reading of this file when `recordPath` asks for it and the
    /// file allows it (see `DatPageReading.make(for:)`).
    private var pageReading: DatPageReading? {
        guard recordPath == .pages else { return nil }
        if let made = pageReadingMade { return made }
        let made = DatPageReading.make(for: handle)
        pageReadingMade = .some(made)
        return made
    }

    /// Streams every record in global timestamp order (ties keep each CPU's
    /// order, lower CPU first). A record that follows dropped events is
    /// preceded by `.lost` for its CPU.
    public func forEach(_ options: ReadOptions, _ body: (TraceRecord) throws -> Void) throws {
        try forEachView(options) { record in
            switch record {
            case .event(let view): try body(.event(view.event()))
            case .lost(let lost): try body(.lost(lost))
            }
        }
    }

    /// As `forEach`, each event as a view of the record in place (in the
    /// page, or libtracecmd's buffer): fields are decoded only when asked for.
    public func forEachView(_ options: ReadOptions, _ body: (TraceRecordView) throws -> Void) throws {
        if let pages = pageReading {
            lastRecordPath = .pages
            var damaged = 0
            fractionRead = 0
            defer {
                damagedEvents = damaged
                fractionRead = 1
            }
            try pages.forEachView(options, tep: handle.tep, damaged: &damaged, progress: { self.fractionRead = $0 }, body)
            return
        }
        lastRecordPath = .libtracecmd
        var decoder = DatRecordDecoder(tep: handle.tep, selection: options.fields, pageSize: handle.pageSize)
        var merge = DatCPUMerge(handle: handle, renewalBytes: renewalBytes)
        var damaged = 0
        var sinceProgress = 0
        fractionRead = 0
        defer {
            merge.release()
            damagedEvents = damaged
            fractionRead = 1
        }
        try withUnsafeMutablePointer(to: &decoder) { decoder in
            while let (record, cpu) = merge.next() {
                defer { tracecmd_free_record(record) }
                sinceProgress += 1
                if sinceProgress == DatReader.progressInterval {
                    sinceProgress = 0
                    fractionRead = merge.fractionRead
                }
                if let lost = DatReader.lostBefore(record, cpu: cpu) { try body(.lost(lost)) }
                if let view = DatRecordDecoder.view(of: record, cpu: cpu, decoder: decoder) {
                    try body(.event(view))
                } else {
                    damaged += 1
                }
            }
        }
        if let error = merge.renewalError { throw error }
    }

    /// Streams each CPU's records, in that CPU's order, to a sink of its own,
    /// decoding the CPUs in parallel on up to one thread per core. Returns the
    /// sinks indexed by CPU. Records of different CPUs arrive in no particular
    /// order relative to each other.
    public func forEachPerCPU<Sink: PerCPURecordSink>(
        _ options: ReadOptions, makeSink: (_ cpu: Int) -> Sink
    ) throws -> [Sink] {
        if let pages = pageReading {
            lastRecordPath = .pages
            let parts = pages.perCPU(cpuCount: handle.cpuCount)
            let (filled, damaged) = try DatParallelReading.run(
                pages: pages, parts: parts, tep: handle.tep, options: options,
                sinks: parts.map { makeSink($0.partition.cpu) })
            damagedEvents = damaged
            return filled
        }
        lastRecordPath = .libtracecmd
        let plan = DatPartitionPlan.perCPU(cpuCount: handle.cpuCount)
        let sinks = plan.ranges.map { makeSink($0.partition.cpu) }
        let (filled, damaged) = try DatParallelReading.run(
            primary: handle, plan: plan, options: options, renewalBytes: renewalBytes, sinks: sinks)
        damagedEvents = damaged
        return filled
    }

    /// Like `forEachPerCPU`, but splits busy CPUs into page ranges of about
    /// equal size so that every core has work until the end: the fastest way
    /// through a whole file for consumers that combine partial results (counts,
    /// histograms). Each sink receives one contiguous, ordered part of one CPU's
    /// stream; the parts of a CPU in `index` order are its whole stream.
    public func forEachPartition<Sink: PerCPURecordSink>(
        _ options: ReadOptions, makeSink: (TracePartition) -> Sink
    ) throws -> [(partition: TracePartition, sink: Sink)] {
        if let pages = pageReading {
            lastRecordPath = .pages
            let parts = pages.balanced(workers: DatParallelReading.workerCount, minimumBytes: partitionMinimumBytes)
            let (filled, damaged) = try DatParallelReading.run(
                pages: pages, parts: parts, tep: handle.tep, options: options, sinks: parts.map { makeSink($0.partition) })
            damagedEvents = damaged
            return zip(parts, filled).map { ($0.partition, $1) }
        }
        lastRecordPath = .libtracecmd
        let plan = DatPartitionPlan.balanced(
            handle: handle, workers: DatParallelReading.workerCount, minimumBytes: partitionMinimumBytes)
        let sinks = plan.ranges.map { makeSink($0.partition) }
        let (filled, damaged) = try DatParallelReading.run(
            primary: handle, plan: plan, options: options, renewalBytes: renewalBytes, sinks: sinks)
        damagedEvents = damaged
        return zip(plan.ranges, filled).map { ($0.partition, $1) }
    }

    /// The loss a record carries: libtracecmd sets `missed_events` on the first
    /// record after a gap (> 0: that many, < 0: an unknown number).
    static func lostBefore(_ record: UnsafeMutablePointer<tep_record>, cpu: Int) -> LostEvents? {
        let missed = record.pointee.missed_events
        guard missed != 0 else { return nil }
        return LostEvents(cpu: cpu, count: missed > 0 ? UInt64(missed) : nil, timestamp: record.pointee.ts)
    }
}
