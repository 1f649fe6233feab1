import Foundation
import Testing
@testable import TraceIO

/// The text reader on the real traces in traces/: the tracefs files and the
/// `trace-cmd report` output of their trace.dat twins.
@Suite struct TextReaderSampleTests {
    @Test(arguments: Samples.pairNames)
    func readsEveryEventOfTheTracefsFile(name: String) throws {
        let path = Samples.path(name + ".txt")
        let (reader, records) = try TextSamples.records(path)
        let events = records.compactMap { if case .event(let e) = $0 { return e } else { return nil } }
        #expect(events.count == (try TextSamples.eventLineCount(path)))
        #expect(reader.damagedLines == 0)
        #expect(reader.unmatchedFieldLines == 0)
        #expect(reader.metadata.format == .ftraceText)
        #expect(reader.metadata.cpuCount == 2)
        #expect(reader.metadata.entriesInBuffer == UInt64(events.count))
        #expect(reader.metadata.entriesWritten != nil)
        #expect(reader.metadata.clock == nil)
        #expect(events.allSatisfy { $0.timestampResolution == 1000 && $0.timestamp % 1000 == 0 })
        // Names as in the format files.
        #expect(!events.contains { $0.name.hasPrefix("sys_") && !$0.name.hasPrefix("sys_enter_") && !$0.name.hasPrefix("sys_exit_") })
        #expect(events.contains { $0.name.hasPrefix("sys_enter_") })
        // Every event of a system with specs has fields.
        let specced = Set(EventSpecCatalog.all.map(\.event))
        #expect(events.filter { specced.contains($0.name) }.allSatisfy { !$0.fields.isEmpty })
    }

    @Test(arguments: Samples.pairNames)
    func readsReportOutput(name: String) throws {
        for args in [["-t"], [], ["-l"]] {
            let path = try TextSamples.report(name, args)
            #expect(try FormatDetection.detect(path: path) == .traceCmdReport)
            let (reader, records) = try TextSamples.records(path)
            let events = records.compactMap { if case .event(let e) = $0 { return e } else { return nil } }
            #expect(events.count == (try TextSamples.eventLineCount(path)), "report \(args)")
            #expect(reader.damagedLines == 0, "report \(args)")
            #expect(reader.unmatchedFieldLines == 0, "report \(args)")
            #expect(reader.metadata.instance == "cap")
            #expect(reader.metadata.cpuCount == 2)
            let resolution: UInt64 = args == ["-t"] ? 1 : 1000
            #expect(events.allSatisfy { $0.timestampResolution == resolution })
        }
    }

    /// The tracefs file and `trace-cmd report -t` of the same ring buffer:
    /// per CPU the same events, timestamps equal to the nanoseconds rounded
    /// to microseconds, and the same field values.
    @Test(arguments: Samples.pairNames)
    func tracefsTextAgreesWithReport(name: String) throws {
        let text = TextSamples.perCPU(try TextSamples.events(Samples.path(name + ".txt")))
        let report = TextSamples.perCPU(try TextSamples.events(try TextSamples.report(name, ["-t"])))
        #expect(Set(text.keys) == Set(report.keys))
        var compared = 0
        for (cpu, a) in text {
            let b = report[cpu] ?? []
            #expect(a.count == b.count, "cpu \(cpu)")
            for (x, y) in zip(a, b) {
                #expect(x.timestamp == (y.timestamp + 500) / 1000 * 1000)
                #expect(x.pid == y.pid && x.comm == y.comm && x.name == y.name && x.system == y.system)
                let names = Set(x.fields.map(\.name)).union(y.fields.map(\.name))
                for field in names where TextSamples.comparable(x.name, field, x.fields[field], y.fields[field]) {
                    #expect(x.fields[field] == y.fields[field], "\(x.name).\(field): \(x.rawText ?? "") | \(y.rawText ?? "")")
                    compared += 1
                }
            }
        }
        #expect(compared > 1000)
    }

    /// `trace-cmd report` with µs, ns and latency columns gives the same events.
    @Test(arguments: Samples.pairNames)
    func reportVariantsAgree(name: String) throws {
        let ns = try TextSamples.events(try TextSamples.report(name, ["-t"]))
        for args in [[], ["-l"]] {
            let us = try TextSamples.events(try TextSamples.report(name, args))
            #expect(us.count == ns.count)
            for (x, y) in zip(us, ns) {
                #expect(x.timestamp == (y.timestamp + 500) / 1000 * 1000)
                #expect(x.cpu == y.cpu && x.pid == y.pid && x.name == y.name && x.fields == y.fields)
            }
        }
    }

    @Test func modelFieldsHaveTheirFormatTypes() throws {
        let events = try TextSamples.events(Samples.path("fsync_unwritten.txt"))
        let map = try #require(events.first { $0.name == "ext4_ext_map_blocks_exit" })
        #expect(map.fields["dev"] == .device(DeviceNumber(major: 7, minor: 0)))
        #expect(map.fields["ino"]?.uint64 != nil)
        let complete = try #require(events.first { $0.name == "block_rq_complete" })
        #expect(complete.fields["error"] == .signed(0))
        #expect(complete.fields["rwbs"]?.stringValue != nil)
        let folio = try #require(events.first { $0.name == "writeback_dirty_folio" })
        #expect(folio.fields["name"] == .string("7:0"))
        let fault = try #require(events.first { $0.name == "mm_filemap_add_to_page_cache" })
        #expect(fault.fields["s_dev"]?.device != nil && fault.fields["index"] != nil && fault.fields["i_ino"] != nil)
        let exit = try #require(events.first { $0.name == "sys_exit_ioctl" })
        #expect(exit.fields["ret"] == .signed(-25))
        let work = try #require(events.first { $0.name == "workqueue_execute_start" })
        #expect(work.fields["function"]?.stringValue?.isEmpty == false)
        #expect(work.fields["work"]?.uint64 != nil)
    }
}
