import Foundation
import Testing
@testable import TraceIO

/// What the kernel lab recorded on other kernels (traces/kernels/, see its
/// README): every event format of every lab kernel passes the trace.dat
/// pre-checks, every recording reads as `trace-cmd report` reads it, and its
/// text twin gives the same events with every event of a known print format decoded.
@Suite struct LabKernelTests {
    @Test func theLabShipsKernels() {
        #expect(LabKernels.releases.count >= 5, "traces/kernels/ holds \(LabKernels.releases)")
        #expect(LabKernels.recordings.count >= 5 * 10)
    }

    /// The check a real kernel's formats must pass, and header_page parses:
    /// a file a kernel wrote is never refused.
    @Test(arguments: LabKernels.releases)
    func everyFormatOfTheKernelPasses(release: String) throws {
        let files = try LabKernels.formats(release)
        #expect(files.count > 1000, "\(release): \(files.count) formats")
        var checked = 0
        for (path, text) in files {
            if path == "events/header_page" {
                #expect(DatHeaderPage.parse(text) != nil, "\(release): header_page")
                continue
            }
            guard path.hasSuffix("/format") else { continue }
            let damage = text.withUnsafeBytes { DatEventFormatCheck.damage(in: $0) }
            #expect(damage == nil, "\(release) \(path): \(damage ?? "")")
            checked += 1
        }
        #expect(checked > 1000)
    }

    @Test(arguments: LabKernels.recordings)
    func recordingMatchesTraceCmdReport(recording: String) throws {
        try DatConformance.assertConforms(path: LabKernels.path(recording, ".dat"))
    }

    /// The text twin, `trace-cmd report -t` of the .dat (what the kernel's
    /// print formats print): per CPU the same events with the same values, and
    /// no line of an event the reader knows left undecoded (each kernel's print
    /// format of it is known).
    @Test(arguments: LabKernels.recordings)
    func textTwinReadsTheSameEvents(recording: String) throws {
        let text = try LabKernels.textTwin(recording)
        defer { try? FileManager.default.removeItem(atPath: text) }
        try TextDatComparison.compare(text: text, dat: LabKernels.path(recording, ".dat"), rounding: 1, minimumFields: 100,
                                         signednessFree: true)
        let reader = try TextReader(path: text)
        try reader.forEach(ReadOptions()) { _ in }
        #expect(reader.unmatchedFieldLines == 0, "\(recording): \(reader.unmatchedFieldLines) lines not decoded")
        #expect(reader.damagedLines == 0)
    }
}
