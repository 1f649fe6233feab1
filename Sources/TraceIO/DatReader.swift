import CTrace

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
/// `__ext4_new_inode+0xdd7`), resolved through the kallsyms in the file.
///
/// A reader keeps one libtracecmd handle: use it from one thread at a time.
public final class DatReader: TraceReader {
    public let path: String
    public let metadata: TraceMetadata
    let handle: DatHandle
    /// Record bytes between renewals of the data handle (see `DatHandle`);
    /// tests lower it to exercise renewal on small files.
    var renewalBytes = DatCPUMerge.defaultRenewalBytes

    /// Opens `path`. `instance` picks a buffer instance by name ("" is the top
    /// level); without it the reader takes the top level when it has events,
    /// else the one instance that has (`trace-cmd extract -B NAME` leaves the
    /// top level empty). Throws `TraceError` for files it cannot read.
    public init(path: String, instance: String? = nil) throws {
        let handle = try DatHandle(path: path, requested: instance)
        self.handle = handle
        self.path = path
        metadata = DatMetadata.read(handle)
    }

    /// Streams every record in global timestamp order (ties keep each CPU's
    /// order, lower CPU first). A record that follows dropped events is
    /// preceded by `.lost` for its CPU.
    public func forEach(_ options: ReadOptions, _ body: (TraceRecord) throws -> Void) throws {
        var decoder = DatRecordDecoder(tep: handle.tep, selection: options.fields)
        var merge = DatCPUMerge(handle: handle, renewalBytes: renewalBytes)
        defer { merge.release() }
        while let (record, cpu) = merge.next() {
            defer { tracecmd_free_record(record) }
            if let lost = DatReader.lostBefore(record, cpu: cpu) { try body(.lost(lost)) }
            try body(.event(decoder.decode(record, cpu: cpu)))
        }
        if let error = merge.renewalError { throw error }
    }

    /// Streams each CPU's records, in that CPU's order, to a sink of its own,
    /// decoding the CPUs in parallel on up to one thread per core (each with its
    /// own libtracecmd handle). Returns the sinks indexed by CPU. Records of
    /// different CPUs arrive in no particular order relative to each other.
    public func forEachPerCPU<Sink: PerCPURecordSink>(
        _ options: ReadOptions, makeSink: (_ cpu: Int) -> Sink
    ) throws -> [Sink] {
        let sinks = (0..<handle.cpuCount).map(makeSink)
        return try DatParallelReading.run(
            primary: handle, options: options, renewalBytes: renewalBytes, sinks: sinks)
    }

    /// The loss a record carries: libtracecmd sets `missed_events` on the first
    /// record after a gap (> 0: that many, < 0: an unknown number).
    static func lostBefore(_ record: UnsafeMutablePointer<tep_record>, cpu: Int) -> LostEvents? {
        let missed = record.pointee.missed_events
        guard missed != 0 else { return nil }
        return LostEvents(cpu: cpu, count: missed > 0 ? UInt64(missed) : nil, timestamp: record.pointee.ts)
    }
}
