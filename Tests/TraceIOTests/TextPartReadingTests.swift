import Foundation
import Testing
@testable import TraceIO

/// `TextReader.forEachPart` (runs of lines decoded in parallel) against the
/// one ordered pass: the same events in file order across the parts, the
/// same losses, the same damaged and unmatched lines, the same statistics.
@Suite struct TextPartReadingTests {
    struct Collecting: PerCPURecordSink {
        var records: [TraceRecord] = []
        mutating func consume(_ record: TraceRecord) throws { records.append(record) }
    }

    /// The event as comparable text, its fields by name (the print formats
    /// of several kernels can give one event's fields in another order).
    static func eventText(_ e: TraceEvent, fieldsOf variantFree: Set<String> = []) -> String {
        let fields = variantFree.contains(e.name) ? "" : "\(e.fields.sorted { $0.name < $1.name }.map { "\($0.name)=\($0.value)" })"
        return "\(e.timestamp) \(e.cpu) \(e.pid) \(e.comm) \(e.name) \(fields) \(e.rawText ?? "")"
    }

    /// Events several kernels print alike with different fields: a part
    /// picks their variant by its own lines (see `forEachPart`).
    static let variantEvents = Set(Dictionary(grouping: EventSpecCatalog.all, by: \.event).filter { $0.value.count > 1 }.keys)

    static func lostText(_ l: LostEvents) -> String {
        "lost \(l.cpu) \(l.count.map(String.init) ?? "?") @\(l.timestamp.map(String.init) ?? "end")"
    }

    /// Compares the parts of `path` (`parts` of them; nil: the reader's
    /// choice) with the ordered pass; the fields of `variantFree` events
    /// are left out of the comparison.
    static func compare(
        _ path: String, parts: Int?, options: ReadOptions = ReadOptions(), variantFree: Set<String> = []
    ) throws {
        let ordered = try TextReader(path: path)
        var events: [String] = []
        var losses: [String] = []
        var stats = TraceStatistics()
        try ordered.forEach(options) { record in
            stats.add(record)
            switch record {
            case .event(let e): events.append(eventText(e, fieldsOf: variantFree))
            case .lost(let l): losses.append(lostText(l))
            }
        }
        let parted = try TextReader(path: path)
        parted.partCount = parts
        let sinks = try parted.forEachPart(options) { _ in Collecting() }
        if let parts { #expect(sinks.count <= parts) }
        var partEvents: [String] = []
        var partLosses: [String] = []
        var partStats = TraceStatistics()
        for sink in sinks {
            for record in sink.records {
                var one = TraceStatistics()
                one.add(record)
                partStats.merge(one)
                switch record {
                case .event(let e): partEvents.append(eventText(e, fieldsOf: variantFree))
                case .lost(let l): partLosses.append(lostText(l))
                }
            }
        }
        #expect(partEvents == events, "\(path): events differ in \(sinks.count) parts")
        #expect(partLosses.sorted() == losses.sorted(), "\(path): losses differ in \(sinks.count) parts")
        #expect(parted.damagedLines == ordered.damagedLines)
        #expect(parted.firstDamagedLine == ordered.firstDamagedLine)
        #expect(parted.unmatchedFieldLines == ordered.unmatchedFieldLines)
        #expect(partStats.events == stats.events && partStats.byEvent == stats.byEvent && partStats.byCPU == stats.byCPU)
        #expect(partStats.lostByCPU == stats.lostByCPU && partStats.unknownLossCPUs == stats.unknownLossCPUs)
        #expect(partStats.firstTimestamp == stats.firstTimestamp && partStats.lastTimestamp == stats.lastTimestamp)
        #expect(partStats.devices == stats.devices && partStats.inodes == stats.inodes)
    }

    static var textFiles: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Samples.tracesDir.path)) ?? []
        return names.filter { $0.hasSuffix(".txt") }.sorted() + ["lost-events/lost_events.txt", "diff/diff_default_a.txt"]
    }

    @Test(arguments: textFiles)
    func partsMatchTheOrderedPass(file: String) throws {
        for parts in [nil, 3, 17] {
            try Self.compare(Samples.path(file), parts: parts)
        }
        try Self.compare(Samples.path(file), parts: 7, options: ReadOptions(fields: TraceStatistics.neededFields, keepRawText: false))
    }

    /// The text twins of other kernels' recordings (`trace-cmd report -t`
    /// of the lab's write_fsync in each configuration): the same events,
    /// counts, devices and inodes in parts as in one pass. An event that
    /// several kernels print alike is compared without its fields (its
    /// variant is each part's choice), the statistics with them.
    @Test(arguments: LabKernels.recordings.filter { $0.hasSuffix("/write_fsync") })
    func otherKernelsTwinsMatchTheOrderedPass(recording: String) throws {
        let text = try LabKernels.textTwin(recording)
        defer { try? FileManager.default.removeItem(atPath: text) }
        try Self.compare(text, parts: 9, variantFree: Self.variantEvents)
        try Self.compare(text, parts: 9, options: ReadOptions(fields: TraceStatistics.neededFields, keepRawText: false))
    }

    /// Gaps across part boundaries: LOST lines of a CPU in one part, its
    /// next event in a later one, with parts between that have neither or
    /// only other CPUs' lines; unknown counts; a gap no event follows; a
    /// damaged line and a cut last line. Cut into one part per line, and
    /// every number of parts up to that.
    @Test func lossesJoinAcrossParts() throws {
        let body = """
                 python3-1    [001] .....     1.000001: ext4_sync_fs: dev 7,0 wait 1
        CPU:1 [LOST 42 EVENTS]
                 python3-1    [000] .....     1.000002: ext4_sync_fs: dev 7,0 wait 1
        CPU:0 [LOST 5 EVENTS]
        CPU:1 [LOST 8 EVENTS]
        this line is garbage
                 python3-1    [002] .....     1.000003: ext4_sync_fs: dev 7,0 wait 1
        CPU:0 [LOST EVENTS]
        CPU:2 [LOST 3 EVENTS]
                 python3-1    [001] .....     1.000004: ext4_sync_fs: dev 7,0 wait 1
                 python3-1    [000] .....     1.000005: ext4_sync_fs: dev 7,0 wait 1
        CPU:3 [LOST 9 EVENTS]
        CPU:1 [LOST 1 EVENTS]
                 python3-1    [003] .....     1.000006: ext4_sync_fs: dev 7,0 wait 1
        CPU:2 [LOST 4 EVENTS]
                 python3-1    [002] .....     1.000007: ext4_sync_fs: dev 7,0 wa
        """
        let path = TextSamples.write(TextLineTests.header + body)
        let lines = (TextLineTests.header + body).split(separator: "\n", omittingEmptySubsequences: false).count
        for parts in 1...lines {
            try Self.compare(path, parts: parts)
        }
        let reader = try TextReader(path: path)
        reader.partCount = lines
        let sinks = try reader.forEachPart(ReadOptions()) { _ in Collecting() }
        let losses = sinks.flatMap(\.records).compactMap { record -> String? in
            if case .lost(let l) = record { return Self.lostText(l) }
            return nil
        }
        // CPU 1: 42 + 8 before its event at 1.000004; CPU 0: 5 + an unknown
        // number; CPU 2: 3 + 4 with no event after (its last line is cut).
        #expect(losses.sorted() == ["lost 0 ? @1000005000", "lost 1 1 @end", "lost 1 50 @1000004000",
                                    "lost 2 7 @end", "lost 3 9 @1000006000"], "\(losses)")
        #expect(reader.damagedLines == 2 && reader.firstDamagedLine == 10)
    }

    /// `TraceStatistics.collect` reads a text trace in parts and counts what
    /// the ordered pass counts.
    @Test func statisticsCollectReadsInParts() throws {
        let path = Samples.path("lost-events/lost_events.txt")
        var ordered = TraceStatistics()
        let reader = try TextReader(path: path)
        try reader.forEach(ReadOptions(fields: TraceStatistics.neededFields, keepRawText: false)) { ordered.add($0) }
        let collected = try TraceStatistics.collect(from: TextReader(path: path))
        #expect(collected.events == ordered.events && collected.byEvent == ordered.byEvent)
        #expect(collected.lostByCPU == ordered.lostByCPU && !collected.lostByCPU.isEmpty)
        #expect(collected.devices == ordered.devices && collected.inodes == ordered.inodes)
    }
}
