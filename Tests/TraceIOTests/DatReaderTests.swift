import Foundation
import Testing
@testable import TraceIO

/// A sink that keeps what one CPU delivered, for comparing with the ordered stream.
struct CollectingSink: PerCPURecordSink {
    let cpu: Int
    var events: [(timestamp: UInt64, name: String, fields: EventFields)] = []
    var lost: [LostEvents] = []
    var wrongCPU = 0

    mutating func consume(_ record: TraceRecord) throws {
        switch record {
        case .event(let e):
            if e.cpu != cpu { wrongCPU += 1 }
            events.append((e.timestamp, e.name, e.fields))
        case .lost(let l):
            if l.cpu != cpu { wrongCPU += 1 }
            lost.append(l)
        }
    }
}

struct StopAfter: PerCPURecordSink {
    struct Enough: Error {}
    var seen = 0
    mutating func consume(_ record: TraceRecord) throws {
        seen += 1
        if seen == 100 { throw Enough() }
    }
}

@Suite struct DatReaderTests {
    static let names = DatReaderConformanceTests.datNames

    func records(_ reader: DatReader, _ options: ReadOptions = ReadOptions()) throws -> [TraceRecord] {
        var all: [TraceRecord] = []
        try reader.forEach(options) { all.append($0) }
        return all
    }

    /// Metadata against `trace-cmd dump --options` and `report`.
    @Test(arguments: names)
    func metadataMatchesTheFileOptions(file: String) throws {
        let path = Samples.path(file)
        let reader = try DatReader(path: path)
        let options = try ReportOracle.run(["dump", "--options", path]).split(separator: "\n")
        if let i = options.firstIndex(where: { $0.contains("[Option UNAME") }) {
            #expect(reader.metadata.kernelRelease == String(options[i + 1].split(separator: " ")[2]))
        }
        if let i = options.firstIndex(where: { $0.contains("[Option TRACECLOCK") }),
           let open = options[i + 1].firstIndex(of: "["), let close = options[i + 1].firstIndex(of: "]") {
            #expect(reader.metadata.clock == String(options[i + 1][options[i + 1].index(after: open)..<close]))
        }
        let report = try ReportOracle.run(["report", "-t", path])
        let cpusLine = try #require(report.split(separator: "\n").first)
        #expect(cpusLine == "cpus=\(reader.metadata.cpuCount ?? -1)")
        // sample traces come from `trace-cmd extract -B NAME`: the events are in NAME
        let instance = try #require(reader.metadata.instance)
        #expect(report.split(separator: "\n").dropFirst().first?.hasPrefix(instance + ":") == true)
        #expect(reader.metadata.recording.isEmpty)
        #expect(reader.metadata.lostByCPU.isEmpty)
    }

    @Test func instanceSelection() throws {
        let path = try #require(Self.names.first.map(Samples.path))
        let byDefault = try DatReader(path: path)
        let name = try #require(byDefault.metadata.instance)
        let named = try DatReader(path: path, instance: name)
        #expect(named.metadata.instance == name)
        #expect(try records(named, ReadOptions(fields: .none)).count == records(byDefault, ReadOptions(fields: .none)).count)
        let top = try DatReader(path: path, instance: "")
        #expect(top.metadata.instance == nil)
        #expect(try records(top).isEmpty)
        #expect {
            try DatReader(path: path, instance: "no-such-instance")
        } throws: { error in
            guard case TraceError.unreadable(_, let reason) = error else { return false }
            return reason.contains("no-such-instance") && reason.contains(name)
        }
    }

    @Test func fieldSelectionDecodesOnlyWhatIsAsked() throws {
        let path = Samples.path("fsync_unwritten.dat")
        let reader = try DatReader(path: path)
        let full = try records(reader)
        let some = try records(reader, ReadOptions(fields: .named(["dev", "ino", "function"])))
        let none = try records(reader, ReadOptions(fields: .none))
        #expect(full.count == some.count && full.count == none.count)
        var checked = 0
        for (a, (b, c)) in zip(full, zip(some, none)) {
            guard case .event(let all) = a, case .event(let picked) = b, case .event(let bare) = c else { continue }
            #expect(bare.fields.isEmpty)
            #expect(picked.name == all.name && picked.timestamp == all.timestamp)
            let expected = all.fields.filter { ["dev", "ino", "function"].contains($0.name) }
            #expect(Array(picked.fields) == expected)
            checked += expected.count
        }
        #expect(checked > 1000)
    }

    /// Each CPU's sink receives exactly that CPU's part of the ordered stream.
    @Test(arguments: [names.first!, "overwritten_ring.dat"])
    func perCPUStreamsAreTheOrderedStreamSplitByCPU(file: String) throws {
        let path = file == "overwritten_ring.dat" ? Samples.fixture(file) : Samples.path(file)
        let reader = try DatReader(path: path)
        let ordered = try records(reader)
        let sinks = try reader.forEachPerCPU(ReadOptions()) { CollectingSink(cpu: $0) }
        #expect(sinks.count == reader.metadata.cpuCount)
        for sink in sinks {
            #expect(sink.wrongCPU == 0)
            var expected: [(UInt64, String, EventFields)] = []
            var expectedLost: [LostEvents] = []
            for record in ordered {
                switch record {
                case .event(let e) where e.cpu == sink.cpu: expected.append((e.timestamp, e.name, e.fields))
                case .lost(let l) where l.cpu == sink.cpu: expectedLost.append(l)
                default: break
                }
            }
            #expect(sink.events.count == expected.count)
            #expect(zip(sink.events, expected).allSatisfy { $0.timestamp == $1.0 && $0.name == $1.1 && $0.fields == $1.2 })
            #expect(sink.lost == expectedLost)
        }
    }

    @Test func perCPUStopsAtTheFirstError() throws {
        let reader = try DatReader(path: Samples.path("fsync_unwritten.dat"))
        #expect(throws: StopAfter.Enough.self) {
            _ = try reader.forEachPerCPU(ReadOptions(fields: .none)) { _ in StopAfter() }
        }
        // the reader still works afterwards
        #expect(try !records(reader, ReadOptions(fields: .none)).isEmpty)
    }

    /// Renewing libtracecmd's data handle (see DatHandle) every few KiB gives
    /// the very same stream, lost marks included.
    @Test(arguments: [names.first!, "overwritten_ring.dat"])
    func renewingTheDataHandleKeepsTheStream(file: String) throws {
        let path = file == "overwritten_ring.dat" ? Samples.fixture(file) : Samples.path(file)
        let reader = try DatReader(path: path)
        let normal = try records(reader)
        reader.renewalBytes = 4096
        let renewed = try records(reader)
        #expect(normal.count == renewed.count)
        #expect(zip(normal, renewed).allSatisfy { a, b in
            switch (a, b) {
            case (.event(let x), .event(let y)):
                x.timestamp == y.timestamp && x.cpu == y.cpu && x.name == y.name && x.fields == y.fields
            case (.lost(let x), .lost(let y)): x == y
            default: false
            }
        })
        let sinks = try reader.forEachPerCPU(ReadOptions()) { CollectingSink(cpu: $0) }
        #expect(sinks.map(\.events.count).reduce(0, +) == normal.filter { if case .event = $0 { true } else { false } }.count)
    }

    /// A ring buffer that overwrote events: the first page read of each CPU
    /// says how many were lost, and that matches the buffer's statistics.
    @Test func overwrittenRingReportsLostEvents() throws {
        let reader = try DatReader(path: Samples.fixture("overwritten_ring.dat"))
        #expect(!reader.metadata.lostByCPU.isEmpty)
        let all = try records(reader)
        var lostByCPU: [Int: UInt64] = [:]
        for (i, record) in all.enumerated() {
            guard case .lost(let lost) = record else { continue }
            let count = try #require(lost.count)
            lostByCPU[lost.cpu, default: 0] += count
            // the mark comes right before an event of its CPU at its timestamp
            let next = all[(i + 1)...].first { if case .event(let e) = $0 { e.cpu == lost.cpu } else { false } }
            guard case .event(let event)? = next else {
                Issue.record("no event after \(lost)")
                continue
            }
            #expect(event.timestamp == lost.timestamp)
        }
        #expect(lostByCPU == reader.metadata.lostByCPU)
    }

    @Test func recordingMarkerParsing() {
        #expect(DatMetadata.parseMarker("wbreplay-recording: preset=model bs=4096 filter=dev==7340032\n")
            == ["preset": "model", "bs": "4096", "filter": "dev==7340032"])
        #expect(DatMetadata.parseMarker("wbreplay-recording: ") == [:])
        #expect(DatMetadata.parseMarker("hello wbreplay-recording: a=b") == nil)
    }

    @Test func cpustatsParsingKeepsTheReadBuffer() {
        let stats = """
        CPU: 0
        entries: 0
        overrun: 5
        commit overrun: 0
        dropped events: 0

        Buffer: cap

        CPU: 0
        overrun: 7
        commit overrun: 1
        dropped events: 2
        CPU: 1
        overrun: 0
        dropped events: 0
        """
        #expect(DatMetadata.lostByCPU(cpustats: stats, buffer: "cap") == [0: 10])
        #expect(DatMetadata.lostByCPU(cpustats: stats, buffer: "") == [0: 5])
        #expect(DatMetadata.kernelRelease(fromUname: "Linux vm 6.18.44-fc-v669 x86_64") == "6.18.44-fc-v669")
    }
}
