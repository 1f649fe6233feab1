import Foundation
import Testing
@testable import TraceIO

/// The page reading (`DatPageReading`: ring-buffer pages decoded directly,
/// in parallel) against libtracecmd's record iterator, record by record, on
/// every trace.dat the project has: the same events in the same order with
/// the same timestamps and fields, the same lost-events records at the same
/// places, the same damaged records counted.
@Suite struct DatPageReadingTests {
    /// Every trace.dat that opens: the samples, the diff and lost-events
    /// recordings, the fixtures (damaged ones whose records are counted as
    /// damaged included).
    static var allFiles: [String] {
        var paths: [String] = []
        for dir in ["traces", "traces/diff", "traces/lost-events", "Tests/Fixtures", "Tests/Fixtures/damaged",
                    "Tests/Fixtures/fuzz"] {
            let url = Samples.root.appendingPathComponent(dir)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            paths += names.filter { $0.hasSuffix(".dat") }.sorted().map { "\(dir)/\($0)" }
        }
        return paths
    }

    /// The records of one ordered pass, as comparable text (the built event
    /// with all its fields, or the loss), and the damaged count.
    static func ordered(_ reader: DatReader, _ options: ReadOptions = ReadOptions()) throws -> (records: [String], damaged: Int) {
        var records: [String] = []
        try reader.forEachView(options) { record in
            switch record {
            case .event(let view):
                let e = view.event()
                records.append("\(e.timestamp) \(e.cpu) \(e.pid) \(e.comm) \(e.formatID) \(e.name) \(e.fields)")
            case .lost(let lost):
                records.append("lost \(lost.cpu) \(String(describing: lost.count)) \(String(describing: lost.timestamp))")
            }
        }
        return (records, reader.damagedEvents)
    }

    static func compareOrdered(path: String, file: String, options: ReadOptions = ReadOptions()) throws {
        let pages = try DatReader(path: path)
        let iterator = try DatReader(path: path)
        iterator.recordPath = .libtracecmd
        let mine = try ordered(pages, options)
        let theirs = try ordered(iterator, options)
        #expect(pages.lastRecordPath == .pages, "\(file): the page reading was not used")
        #expect(iterator.lastRecordPath == .libtracecmd)
        #expect(mine.damaged == theirs.damaged, "\(file): damaged \(mine.damaged) vs \(theirs.damaged)")
        #expect(mine.records.count == theirs.records.count, "\(file): \(mine.records.count) records vs \(theirs.records.count)")
        if let index = zip(mine.records, theirs.records).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            Issue.record("\(file): record \(index) differs:\n  pages:       \(mine.records[index])\n  libtracecmd: \(theirs.records[index])")
        }
    }

    @Test(arguments: allFiles)
    func orderedRecordsMatchLibtracecmd(file: String) throws {
        let path = Samples.root.appendingPathComponent(file).path
        guard (try? DatReader(path: path)) != nil else { return }  // refused at open: no records to compare
        try Self.compareOrdered(path: path, file: file)
    }

    /// The same with the fields a replay reads (a selection per event), through views.
    @Test func selectedFieldsMatchLibtracecmd() throws {
        let options = ReadOptions(fields: .named(["dev", "ino", "index", "function"]), keepRawText: false)
        try Self.compareOrdered(path: Samples.path("punch_hole.dat"), file: "punch_hole.dat", options: options)
    }

    /// The same events written as trace.dat v6 and uncompressed v7 (plain
    /// pages, read in the mapped file). (This libtracecmd reads no zlib files.)
    @Test(arguments: [["--file-version", "6"], ["--file-version", "7", "--compression", "none"]])
    func otherFileLayoutsMatchLibtracecmd(arguments: [String]) throws {
        let dir = try DatTempDir()
        for source in [Samples.path("fsync_unwritten.dat"), Samples.path("lost-events/lost_events.dat"),
                       Samples.fixture("overwritten_ring.dat")] {
            let name = URL(fileURLWithPath: source).lastPathComponent
            let converted = dir.path("\(arguments.joined())-\(name)")
            try ReportOracle.convert(source, to: converted, arguments: arguments)
            try Self.compareOrdered(path: converted, file: "\(name) converted with \(arguments.joined(separator: " "))")
        }
    }

    /// The parallel ways (per CPU, balanced parts) give each CPU the records
    /// the ordered pass gives it, on both paths.
    @Test(arguments: ["lost-events/lost_events.dat", "punch_hole.dat"])
    func parallelReadingMatchesLibtracecmd(file: String) throws {
        for path in [RecordPathChoice.pages, .libtracecmd] {
            let reader = try DatReader(path: Samples.path(file))
            reader.recordPath = path.value
            let ordered = try DatReaderTests().records(reader)
            let perCPU = try reader.forEachPerCPU(ReadOptions()) { CollectingSink(cpu: $0) }
            #expect(reader.lastRecordPath == path.value)
            reader.partitionMinimumBytes = 8192
            let parts = try reader.forEachPartition(ReadOptions()) { CollectingSink(cpu: $0.cpu) }
            #expect(parts.count > perCPU.filter { !$0.events.isEmpty }.count, "\(file): not split")
            for sink in perCPU {
                let expected = ordered.compactMap { record -> String? in
                    guard case .event(let e) = record, e.cpu == sink.cpu else { return nil }
                    return "\(e.timestamp) \(e.name) \(e.fields)"
                }
                let got = sink.events.map { "\($0.timestamp) \($0.name) \($0.fields)" }
                #expect(got == expected, "\(file), \(path): CPU \(sink.cpu) per CPU")
                let split = parts.filter { $0.partition.cpu == sink.cpu }.sorted { $0.partition.index < $1.partition.index }
                #expect(split.flatMap { $0.sink.events.map { "\($0.timestamp) \($0.name) \($0.fields)" } } == expected,
                        "\(file), \(path): CPU \(sink.cpu) in parts")
                let lostOrdered = ordered.compactMap { record -> LostEvents? in
                    guard case .lost(let l) = record, l.cpu == sink.cpu else { return nil }
                    return l
                }
                #expect(sink.lost == lostOrdered)
                #expect(split.flatMap(\.sink.lost) == lostOrdered)
            }
        }
    }

    /// Damaged records are counted the same in parallel too.
    @Test(arguments: ["unknown-event-id.dat", "huge-field.dat", "huge-record-length.dat"])
    func damagedRecordsCountedInParallel(file: String) throws {
        let pages = try DatReader(path: Samples.fixture("damaged/\(file)"))
        let iterator = try DatReader(path: Samples.fixture("damaged/\(file)"))
        iterator.recordPath = .libtracecmd
        _ = try pages.forEachPartition(ReadOptions()) { _ in TraceStatistics() }
        _ = try iterator.forEachPartition(ReadOptions()) { _ in TraceStatistics() }
        #expect(pages.lastRecordPath == .pages)
        #expect(pages.damagedEvents == iterator.damagedEvents)
        #expect(pages.damagedEvents > 0 || file == "huge-field.dat")
    }

    /// A consumer that stops early stops the workers and frees what it held;
    /// the reader reads the whole file again afterwards.
    @Test func earlyStopThenFullPass() throws {
        let reader = try DatReader(path: Samples.path("lost-events/lost_events.dat"))
        struct Stop: Error {}
        var seen = 0
        #expect(throws: Stop.self) {
            try reader.forEachView(ReadOptions()) { _ in
                seen += 1
                if seen == 1000 { throw Stop() }
            }
        }
        let again = try Self.ordered(reader)
        #expect(again.records.count > 1000)
        #expect(reader.lastRecordPath == .pages)
    }

    /// Both ways report how far an ordered pass has come: from 0, never
    /// backwards, within 0…1, past the middle before the last records, 1 at the end.
    @Test(arguments: [RecordPathChoice.pages, .libtracecmd])
    func progressRisesToTheEnd(path: RecordPathChoice) throws {
        let reader = try DatReader(path: Samples.path("lost-events/lost_events.dat"))
        reader.recordPath = path.value
        var seen: [Double] = []
        var records = 0
        try reader.forEachView(ReadOptions(fields: .none)) { _ in
            records += 1
            if let fraction = reader.fractionRead, fraction != seen.last { seen.append(fraction) }
        }
        #expect(reader.lastRecordPath == path.value)
        #expect(records > 4 * DatReader.progressInterval)
        #expect(seen.first == 0 && seen.count >= 2, "\(seen)")
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0 < $1 } && seen.allSatisfy { (0...1).contains($0) }, "\(seen)")
        #expect((seen.last ?? 0) > 0.5, "\(seen)")
        #expect(reader.fractionRead == 1)
    }

    /// A file whose options convert its timestamps (a TSC conversion, a
    /// date and an offset, in an options section appended to a real trace):
    /// the page reading converts them as libtracecmd does — each timestamp
    /// is the original one converted.
    @Test func timestampOptionsAppliedAsLibtracecmd() throws {
        let dir = try DatTempDir()
        let source = Samples.path("punch_hole.dat")
        var tsc = [UInt8](repeating: 0, count: 16)
        tsc[0] = 3  // mult 3, shift 1: strictly increasing, so the order is kept
        tsc[4] = 1
        let options: [(UInt16, [UInt8])] = [(14, tsc), (1, Array("0x10\0".utf8)), (7, Array("12345\0".utf8))]
        let path = try Self.appendingOptions(options, to: source, as: dir.path("converted-clock.dat"))
        try Self.compareOrdered(path: path, file: "punch_hole.dat with clock options")
        var clock = DatClock()
        for (id, data) in options { clock.take(option: UInt64(id), data: data, bigEndian: false) }
        let original = try Self.ordered(DatReader(path: source)).records.map { Self.timestamp($0) }
        let converted = try Self.ordered(DatReader(path: path)).records.map { Self.timestamp($0) }
        #expect(!original.isEmpty && converted == original.map { clock.apply($0) })
    }

    static func timestamp(_ record: String) -> UInt64 {
        let fields = record.split(separator: " ")
        return fields[0] == "lost" ? UInt64(fields[3].dropFirst(9).dropLast())! : UInt64(fields[0])!
    }

    /// `source` (a little-endian trace.dat v7) with one more options section
    /// at its end, holding `options`, chained after its last one.
    static func appendingOptions(_ options: [(UInt16, [UInt8])], to source: String, as output: String) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        func number(_ at: Int, _ width: Int) -> UInt64 {
            (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << UInt64(8 * $1) }
        }
        func le(_ value: UInt64, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) } }
        let headerEnd = try #require(DatV7Header.headerEnd(ArraySlice(bytes.prefix(512))))
        let first = Int(number(headerEnd - 8, 8))
        var next = first
        var lastDone = -1
        while next != 0 {
            var p = next + 16
            let end = p + Int(number(next + 8, 8))
            next = 0
            while p + 6 <= end {
                let id = number(p, 2)
                let length = Int(number(p + 2, 4))
                p += 6
                if id == 0 {
                    lastDone = p
                    next = Int(number(p, 8))
                    break
                }
                p += length
            }
        }
        #expect(lastDone > 0)
        let at = UInt64(bytes.count)
        bytes.replaceSubrange(lastDone..<(lastDone + 8), with: le(at, 8))
        var body: [UInt8] = []
        for (id, data) in options { body += le(UInt64(id), 2) + le(UInt64(data.count), 4) + data }
        body += le(0, 2) + le(8, 4) + le(0, 8)
        bytes += le(0, 2) + le(0, 2) + Array(bytes[(first + 4)..<(first + 8)]) + le(UInt64(body.count), 8) + body
        _ = FileManager.default.createFile(atPath: output, contents: Data(bytes))
        return output
    }

    enum RecordPathChoice: CustomStringConvertible {
        case pages, libtracecmd
        var value: DatReader.RecordPath { self == .pages ? .pages : .libtracecmd }
        var description: String { self == .pages ? "pages" : "libtracecmd" }
    }
}
