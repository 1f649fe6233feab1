import Foundation
import Testing
@testable import TraceIO

/// The page reading reads each part of the mapped trace.dat once and hands
/// the memory pages back as it goes (`DatPageSource`, `DatPagePipeline`):
/// after a whole pass, little of the file is resident in this process, so a
/// command's peak memory does not grow with the file. Measured in
/// /proc/self/smaps, for the file as recorded (zstd chunks) and written
/// plain (v6, uncompressed v7: pages read in the map itself).
@Suite struct DatMappedPagesTests {
    /// The resident KiB of this process's mappings of `path`.
    /// The resident KiB of this process's mappings of `path`, nil when it
    /// has none.
    static func residentKiB(of path: String) throws -> Int? {
        let file = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
        // (Read to the end: a /proc file reports no size.)
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let smaps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        var resident: Int?
        var inFile = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), first.first?.isHexDigit == true {
                inFile = fields.count >= 6 && fields[5...].joined(separator: " ") == file
            } else if inFile, fields.first == "Rss:", fields.count >= 2 {
                resident = (resident ?? 0) + (Int(fields[1]) ?? 0)
            }
        }
        return resident
    }

    /// One ordered pass over every record, then what is still resident.
    static func residentAfterReading(_ path: String) throws -> (resident: Int, events: Int) {
        let reader = try DatReader(path: path)
        var events = 0
        try reader.forEachView(ReadOptions()) { _ in events += 1 }
        #expect(reader.lastRecordPath == .pages, "\(path): not read by pages")
        // The reader (and its map of the file) is alive here.
        let resident = try #require(try residentKiB(of: path), "\(path) is not mapped: nothing measured")
        return (resident, events)
    }

    @Test(arguments: [[], ["--file-version", "6"], ["--file-version", "7", "--compression", "none"]])
    func pagesReadAreHandedBack(arguments: [String]) throws {
        let source = Samples.path("fstests/generic-468.dat")
        var path = source
        let dir = try DatTempDir()
        if !arguments.isEmpty {
            path = dir.path("\(arguments.joined())-generic-468.dat")
            try ReportOracle.convert(source, to: path, arguments: arguments)
        }
        let fileKiB = Int(try FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64 ?? 0) / 1024
        try #require(fileKiB >= 2048, "the trace is too small to tell: \(fileKiB) KiB")
        let (resident, events) = try Self.residentAfterReading(path)
        #expect(events > 10_000)
        #expect(resident * 8 < fileKiB, "\(resident) KiB of the \(fileKiB) KiB file still resident after reading it (\(arguments))")
    }
}
