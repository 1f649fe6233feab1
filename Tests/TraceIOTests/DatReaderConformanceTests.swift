import Foundation
import Testing
@testable import TraceIO

/// The reader against `trace-cmd report -t -R` over whole files: same events in
/// the same order with the same timestamp, CPU, pid, task and name, and every
/// decoded field equal to what libtraceevent prints for it.
@Suite struct DatReaderConformanceTests {
    static var datNames: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: Samples.tracesDir.path)) ?? []
        return files.filter { $0.hasSuffix(".dat") }.sorted()
    }

    @Test(arguments: datNames)
    func matchesTraceCmdReport(file: String) throws {
        try DatConformance.assertConforms(path: Samples.path(file))
    }

    /// The same events written as trace.dat v6 and as uncompressed v7.
    @Test(arguments: [["--file-version", "6"], ["--file-version", "7", "--compression", "none"]])
    func matchesTraceCmdReportForOtherFileLayouts(arguments: [String]) throws {
        let dir = try DatTempDir()
        for name in Self.datNames.prefix(2) {
            let converted = dir.path("\(arguments.joined())-\(name)")
            try ReportOracle.convert(Samples.path(name), to: converted, arguments: arguments)
            let reader = try DatReader(path: converted)
            #expect(reader.metadata.format == .traceDat(version: Int(arguments[1])!))
            try DatConformance.assertConforms(path: converted)
        }
    }

    @Test(arguments: ["overwritten_ring.dat", "recording_marker.dat"])
    func matchesTraceCmdReportForFixtures(file: String) throws {
        try DatConformance.assertConforms(path: Samples.fixture(file))
    }
}
