import Foundation
import Testing
import TraceIO
@testable import KernelEvents

/// The sample traces in traces/, found from this source file.
private enum SampleTraces {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("traces")

    /// Every .dat and .txt sample.
    static var paths: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".dat") || $0.hasSuffix(".txt") }.sorted()
            .map { directory.appendingPathComponent($0).path }
    }
}

/// The field selection a replay reads with: the typed events' fields only.
private let replayFields = ReadOptions(fields: .perEvent(KernelEventDecoder.fieldsByEvent), keepRawText: false)

/// Decodes every event of `path` twice, by `decodeTyped` on the reader's view
/// (trace.dat: through field indices cached per layout) and by
/// `decode(TraceEvent)` on the event the view builds (fields by name), and
/// records where they differ. Returns how many events were typed.
private func compareDecodings(_ path: String, _ options: ReadOptions,
                              fast: inout KernelEventDecoder, byName: inout KernelEventDecoder) throws -> Int {
    let reader = try TraceFile.open(path: path)
    var typed = 0
    var mismatches = 0
    var otherFormats: Set<Int32> = []
    try reader.forEachView(options) { record in
        guard case .event(let view) = record else { return }
        let event = view.event()
        let expected = byName.decode(event)
        switch (fast.decodeTyped(view), expected) {
        case (nil, .other):
            // The public view decode gives `.other` with the whole event, as
            // the event's own decode does (checked once per format: slow in
            // a debug build).
            if otherFormats.insert(view.formatID).inserted {
                var again = KernelEventDecoder()
                var againByName = KernelEventDecoder()
                if "\(again.decode(view))" != "\(againByName.decode(event))" { mismatches += 1 }
            }
        case (let got?, _):
            typed += 1
            if "\(got)" != "\(expected)" { mismatches += 1 }
        default:
            mismatches += 1
        }
    }
    #expect(mismatches == 0, "\(path)")
    #expect(fast.diagnostics.entries == byName.diagnostics.entries, "\(path)")
    return typed
}

/// `decodeTyped(EventView)` reads fields by index where the reader's layout
/// allows; it must give exactly what `decode(TraceEvent)` gives by name.
@Suite struct ViewDecodingTests {
    @Test(arguments: SampleTraces.paths)
    func viewDecodingMatchesDecodingByName(path: String) throws {
        var fast = KernelEventDecoder()
        var byName = KernelEventDecoder()
        let typed = try compareDecodings(path, replayFields, fast: &fast, byName: &byName)
        #expect(typed > 0, "\(path): no typed event, so nothing was compared")
        // Every field: a trace.dat's indices then differ from the replay's
        // selection (a text view is read by name either way).
        guard path.hasSuffix(".dat") else { return }
        var fastAll = KernelEventDecoder()
        var byNameAll = KernelEventDecoder()
        _ = try compareDecodings(path, ReadOptions(fields: .all), fast: &fastAll, byName: &byNameAll)
    }

    /// One decoder over several passes and files: each pass's formats have new
    /// layouts (and other files other event ids), which must not reuse the
    /// field indices of the previous ones.
    @Test func oneDecoderAcrossFilesAndPasses() throws {
        // The smallest ones: this is about the switching, not the events.
        let dats = SampleTraces.paths.filter {
            $0.hasSuffix("punch_after_writeback.dat") || $0.hasSuffix("dio_truncate.dat")
        }
        #expect(dats.count == 2)
        var fast = KernelEventDecoder()
        var byName = KernelEventDecoder()
        for path in dats + dats.prefix(1) {
            _ = try compareDecodings(path, replayFields, fast: &fast, byName: &byName)
            _ = try compareDecodings(path, ReadOptions(fields: .all), fast: &fast, byName: &byName)
        }
    }

    /// A format that lacks a field a decoder needs (here: not selected)
    /// decodes to `.other` with its diagnostic, on the view path as by name.
    @Test func missingFieldInLayoutStaysOtherWithDiagnostic() throws {
        var map = KernelEventDecoder.fieldsByEvent
        map.exact["ext4_da_write_begin"]?.remove("len")
        map.exact["sys_exit_pwrite64"] = ["__syscall_nr"]
        let options = ReadOptions(fields: .perEvent(map), keepRawText: false)
        let path = try #require(SampleTraces.paths.first { $0.hasSuffix(".dat") && $0.contains("fsync_unwritten") })
        var fast = KernelEventDecoder()
        var byName = KernelEventDecoder()
        _ = try compareDecodings(path, options, fast: &fast, byName: &byName)
        let entries = fast.diagnostics.entries
        let writeBegin = entries.first { $0.event == "ext4_da_write_begin" }
        #expect(writeBegin?.message == "no field len in this format; event left undecoded")
        #expect((writeBegin?.count ?? 0) > 0)
        let exit = entries.first { $0.event == "sys_exit_pwrite64" }
        #expect(exit?.message == "no field ret in this format; event left undecoded")
        #expect((exit?.count ?? 0) > 0)
    }
}

/// The script answers a lookup only for the names it recorded at that step.
@Suite struct FieldLookupScriptTests {
    @Test func answersOnlyTheSameNamesAtTheSameStep() {
        var script = FieldLookupScript(layout: 1)
        script.record(.index(2), at: 0, "ino", [])
        script.record(.index(5), at: 1, "index", ["folio_index"])
        // Not the next step: not remembered.
        script.record(.index(9), at: 5, "len", [])
        #expect(script.count == 2)
        guard case .index(2)? = script.resolution(at: 0, "ino", []) else { Issue.record("step 0"); return }
        guard case .index(5)? = script.resolution(at: 1, "index", ["folio_index"]) else { Issue.record("step 1"); return }
        #expect(script.resolution(at: 0, "dev", []) == nil)
        #expect(script.resolution(at: 1, "index", []) == nil)
        #expect(script.resolution(at: 2, "len", []) == nil)
    }
}
