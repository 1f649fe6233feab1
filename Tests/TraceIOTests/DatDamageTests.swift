import Foundation
import Testing
@testable import TraceIO

/// Issue 7, "corrupt and partial files", the kinds inside a trace.dat that a
/// reader can step over: each fixture in Tests/Fixtures/damaged/ is small.dat
/// (373 events) with one thing broken (see make-damaged.py there). The reader
/// either recovers — skips the damaged records and counts them in
/// `damagedEvents` — or throws one TraceError; it never crashes.
@Suite struct DatDamageTests {
    static let intact = 373

    func read(_ name: String) throws -> (events: [TraceEvent], damaged: Int, reader: DatReader) {
        let reader = try DatReader(path: Samples.fixture("damaged/\(name)"))
        var events: [TraceEvent] = []
        try reader.forEach(ReadOptions()) { if case .event(let e) = $0 { events.append(e) } }
        return (events, reader.damagedEvents, reader)
    }

    @Test func intactFileHasNoDamage() throws {
        let (events, damaged, _) = try read("small.dat")
        #expect(events.count == Self.intact)
        #expect(damaged == 0)
    }

    /// A record whose event id has no format in the file is skipped and counted.
    @Test func unknownEventID() throws {
        let (events, damaged, _) = try read("unknown-event-id.dat")
        #expect(damaged == 1)
        #expect(events.count == Self.intact - 1)
        #expect(!events.contains { $0.name.hasPrefix("unknown_event") })
    }

    /// A format declaring a 1 GB char array: every record of that event is
    /// shorter than its format, so each is skipped and counted; the others read.
    @Test func hugeFieldLength() throws {
        let (events, damaged, _) = try read("huge-field.dat")
        #expect(damaged > 0)
        #expect(events.count + damaged == Self.intact)
    }

    /// A record claiming 4 GB of payload: the page's other records still read,
    /// what cannot be decoded is counted, memory is not allocated for the claim.
    @Test func hugeRecordLength() throws {
        let (events, damaged, _) = try read("huge-record-length.dat")
        #expect(damaged > 0)
        #expect(events.count < Self.intact && events.count > Self.intact / 2)
    }

    /// An event format whose field and print-format lines do not parse:
    /// libtraceevent keeps what it could parse; every record is read or counted.
    @Test func formatThatDoesNotParse() throws {
        let (events, damaged, _) = try read("bad-format.dat")
        #expect(events.count + damaged == Self.intact)
    }

    /// The parallel readers count the same damage as the ordered one.
    @Test(arguments: ["unknown-event-id.dat", "huge-field.dat", "huge-record-length.dat"])
    func parallelReadersCountTheSame(name: String) throws {
        let (events, damaged, _) = try read(name)
        let reader = try DatReader(path: Samples.fixture("damaged/\(name)"))
        let stats = try TraceStatistics.collect(from: reader)
        #expect(stats.damagedEvents == UInt64(damaged))
        #expect(stats.events == UInt64(events.count))
        _ = try reader.forEachPerCPU(ReadOptions()) { _ in TraceStatistics() }
        #expect(reader.damagedEvents == damaged)
    }
}

/// Damage libtracecmd cannot set a buffer up with (it would crash in its
/// cleanup when this happens in a buffer instance): one clear TraceError.
@Suite struct DatSetupDamageTests {
    @Test(arguments: [
        ("unaligned-cpu-data.dat", "page boundary"),
        ("oversized-first-page.dat", "first page"),
        ("timestamp-4-bytes.dat", "header_page"), // libtracecmd crashes on it: DatHeaderPage
    ])
    func refused(name: String, mentions: String) throws {
        #expect {
            _ = try DatReader(path: Samples.fixture("damaged/\(name)"))
        } throws: { error in
            error is TraceError && "\(error)".contains(mentions)
        }
    }
}
