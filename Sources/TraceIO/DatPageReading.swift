import CTrace
import Glibc

/// Reads one buffer's records from its ring-buffer pages directly
/// (`DatStreamLayout`, `DatPageSource`, `DatPageWalker`) instead of through
/// libtracecmd's one-record-at-a-time iterator, whose bookkeeping (a
/// `malloc`ed record, page reference counts, a cursor per record) costs an
/// order of magnitude more than walking the page. libtracecmd still opens and
/// validates the file and provides the event formats; the records and their
/// order are the same (`DatPageMerge`), and `DatReader` keeps libtracecmd's
/// iterator for files this reading does not cover (`make(for:)`).
struct DatPageReading: Sendable {
    let file: DatFileMap
    /// By CPU index (libtracecmd's); nil: no data.
    let streams: [DatStreamLayout.Stream?]
    let walk: DatPagePipeline.Walk
    let compression: String
    /// The buffer's page size (every stream's).
    let pageSize: Int

    /// The reading of `handle`'s buffer, or nil when the file's own layout
    /// and libtracecmd's handle disagree in any way this reading depends on:
    /// the same CPU slots and sizes, one page size, a
    /// timestamp conversion `DatClock` does exactly, the new ring-buffer
    /// format, and for every CPU the same first record (timestamp, sizes,
    /// place in its page, lost events, payload).
    static func make(for handle: DatHandle) -> DatPageReading? {
        let name = handle.buffer.name ?? ""
        let layout = handle.streams
        guard let buffer = layout.buffers[name], !tep_is_old_format(handle.tep) else { return nil }
        let clock = layout.clock(for: name)
        let pageSize = handle.pageSize
        guard clock.isSupported, pageSize > 0,
              layout.commitSize == 4 || layout.commitSize == 8,
              buffer.streams.count <= handle.cpuCount,
              let file = try? DatFileMap(path: handle.path)
        else { return nil }
        let reading = DatPageReading(
            file: file, streams: buffer.streams,
            walk: .init(commitSize: layout.commitSize, bigEndian: layout.bigEndian, clock: clock),
            compression: layout.compression, pageSize: pageSize)
        for cpu in 0..<handle.cpuCount {
            let stream = cpu < buffer.streams.count ? buffer.streams[cpu] : nil
            let size = tracecmd_get_cpu_file_size(handle.data, Int32(cpu))
            guard size == (cpu < buffer.streams.count ? off_t(stream?.size ?? 0) : -1),
                  stream.map({ $0.pageSize == pageSize }) ?? true,
                  reading.firstRecordAgrees(cpu: cpu, handle: handle, pageSize: pageSize)
            else { return nil }
        }
        return reading
    }

    /// The CPUs with data, in order.
    var cpus: [Int] { streams.indices.filter { streams[$0] != nil } }

    /// A pipeline over `parts` (CPU, units of its stream; nil: all of it).
    func pipeline(_ parts: [(cpu: Int, units: Range<Int>?)], workers: Int) -> DatPagePipeline {
        let sources = parts.map {
            DatPageSource(stream: streams[$0.cpu]!, file: file, compression: compression, units: $0.units)
        }
        return DatPagePipeline(sources: sources, walk: walk, workers: workers)
    }

    /// Streams every record in global order, as `DatReader.forEachView`,
    /// counting the damaged records it skips into `damaged`. `progress` is
    /// told the share of the pages behind the records read, every
    /// `DatReader.progressInterval` records.
    func forEachView(
        _ options: ReadOptions, tep: OpaquePointer, damaged: inout Int, progress: (Double) -> Void,
        _ body: (TraceRecordView) throws -> Void
    ) throws {
        let cpus = self.cpus
        let total = cpus.reduce(UInt64(0)) { $0 + (streams[$1]?.size ?? 0) }
        let pipeline = pipeline(cpus.map { ($0, nil) }, workers: DatParallelReading.workerCount)
        defer { pipeline.stop() }
        var merge = try DatPageMerge(pipeline: pipeline, cpus: cpus)
        defer { merge.release() }
        var decoder = DatRecordDecoder(tep: tep, selection: options.fields, pageSize: pageSize)
        var sinceProgress = 0
        try withUnsafeMutablePointer(to: &decoder) { decoder in
            while let (record, cpu) = try merge.next() {
                sinceProgress += 1
                if sinceProgress == DatReader.progressInterval, total > 0 {
                    sinceProgress = 0
                    progress(min(1, Double(merge.bytesPassed) / Double(total)))
                }
                if record.missed != 0 { try body(.lost(Self.lost(record, cpu: cpu))) }
                if let view = DatRecordDecoder.view(of: record, cpu: cpu, decoder: decoder) {
                    try body(.event(view))
                } else {
                    damaged += 1
                }
            }
        }
    }

    /// One part of the records for a parallel reader: units of one CPU's
    /// stream (nil: none, a CPU without data).
    struct Part: Sendable {
        var partition: TracePartition
        var units: Range<Int>?
    }

    /// One part per CPU slot of the handle, empty ones too.
    func perCPU(cpuCount: Int) -> [Part] {
        (0..<cpuCount).map { cpu in
            Part(partition: TracePartition(cpu: cpu, index: 0),
                 units: cpu < streams.count ? streams[cpu].map { 0..<$0.unitCount } : nil)
        }
    }

    /// Parts of about `total / (workers * partsPerWorker)` bytes of pages
    /// (at least `minimumBytes`), whole units each, for the CPUs with data.
    func balanced(workers: Int, minimumBytes: UInt64) -> [Part] {
        let total = streams.reduce(UInt64(0)) { $0 + ($1?.size ?? 0) }
        let target = UInt64(max(1, workers * DatPartitionPlan.partsPerWorker))
        let part = max(minimumBytes, (total + target - 1) / target)
        var parts: [Part] = []
        for cpu in cpus {
            let stream = streams[cpu]!
            let units = stream.unitCount
            var start = 0
            var index = 0
            repeat {
                var end = min(start + 1, units)
                var bytes = stream.bytes(ofUnits: start..<end)
                while end < units {
                    let more = stream.bytes(ofUnits: end..<(end + 1))
                    guard bytes + more <= part else { break }
                    bytes += more
                    end += 1
                }
                parts.append(Part(partition: TracePartition(cpu: cpu, index: index), units: start..<end))
                start = end
                index += 1
            } while start < units
        }
        return parts
    }

    /// The loss before `record` (its `missed` is not 0), as `DatReader.lostBefore`.
    static func lost(_ record: DatPageRecord, cpu: Int) -> LostEvents {
        LostEvents(cpu: cpu, count: record.missed > 0 ? UInt64(record.missed) : nil, timestamp: record.timestamp)
    }

    /// Whether the first record this reading finds on `cpu` is the one
    /// libtracecmd finds (both none, or the same in every respect).
    private func firstRecordAgrees(cpu: Int, handle: DatHandle, pageSize: Int) -> Bool {
        let theirs = handle.first(cpu: cpu)
        defer { if let theirs { tracecmd_free_record(theirs) } }
        guard cpu < streams.count, let stream = streams[cpu] else { return theirs == nil }
        var source = DatPageSource(stream: stream, file: file, compression: compression)
        defer { source.close() }
        let buffer = DatPageBuffer()
        var records: [DatPageRecord] = []
        while records.isEmpty {
            guard let pages = try? source.nextPages(targetBytes: pageSize, buffer: buffer) else { return false }
            DatPagePipeline.walkPages(pages, pageSize: pageSize, walk: walk, into: &records)
            if source.isFinished { break }
        }
        guard let mine = records.first, let theirs else { return records.isEmpty && theirs == nil }
        let t = theirs.pointee
        guard t.ts == mine.timestamp, t.size == mine.size, t.record_size == mine.recordSize,
              t.missed_events == mine.missed, Int(t.offset % UInt64(pageSize)) == Int(mine.inPage),
              let data = wbr_record_data(theirs)
        else { return false }
        // The payload's first bytes, when it lies in the page.
        let inside = mine.size >= 0 && mine.recordSize >= mine.size && Int(mine.inPage) + Int(mine.recordSize) <= pageSize
        return !inside || memcmp(data, mine.data, min(Int(mine.size), 64)) == 0
    }
}
