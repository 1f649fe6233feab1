import Foundation
import Testing
@testable import TraceIO

/// Bad input gives one clear TraceError line, never a crash.
@Suite struct DatReaderNegativeTests {
    static let magic: [UInt8] = [0x17, 0x08, 0x44] + Array("tracing".utf8)

    func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Reads everything; returns the event count or the error.
    func readAll(_ path: String) -> Result<Int, any Error> {
        Result {
            let reader = try DatReader(path: path)
            var n = 0
            try reader.forEach(ReadOptions()) { if case .event = $0 { n += 1 } }
            _ = try reader.forEachPerCPU(ReadOptions()) { CollectingSink(cpu: $0) }
            return n
        }
    }

    func expectCorrupt(_ result: Result<Int, any Error>, _ comment: String) {
        switch result {
        case .success(let n):
            Issue.record("\(comment): read \(n) events instead of failing")
        case .failure(let error):
            guard case TraceError.corrupt(_, let reason) = error else {
                Issue.record("\(comment): \(error)")
                return
            }
            #expect(!reason.isEmpty && !reason.contains("\n"))
        }
    }

    /// libtracecmd rejects a cut v7 file at open (its sections are checked
    /// against the file size); a cut v6 file is caught by DatV6Truncation
    /// before libtracecmd would crash on it.
    @Test(arguments: [0.5, 0.8, 0.9, 0.99])
    func truncatedFilesAreCorrupt(fraction: Double) throws {
        let dir = try DatTempDir()
        let v7 = Samples.path("fsync_unwritten.dat")
        let v6 = dir.path("v6.dat")
        try ReportOracle.convert(v7, to: v6, arguments: ["--file-version", "6"])
        let v7none = dir.path("v7none.dat")
        try ReportOracle.convert(v7, to: v7none, arguments: ["--file-version", "7", "--compression", "none"])
        for source in [v7, v6, v7none] {
            let whole = try bytes(source)
            let cut = dir.file("cut.dat", Array(whole.prefix(Int(Double(whole.count) * fraction))))
            expectCorrupt(readAll(cut), "\(source) cut at \(fraction)")
        }
    }

    @Test(arguments: ["6", "7"])
    func randomBytesAfterTheMagicAreCorrupt(version: String) throws {
        let dir = try DatTempDir()
        var generator = SystemRandomNumberGenerator()
        for size in [0, 16, 1000, 70_000] {
            let noise = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let path = dir.file("noise.dat", Self.magic + Array(version.utf8) + [0] + noise)
            expectCorrupt(readAll(path), "v\(version) + \(size) random bytes")
        }
        // a valid header followed by noise
        let whole = try bytes(Samples.path("fsync_unwritten.dat"))
        let noise = (0..<50_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        expectCorrupt(readAll(dir.file("head.dat", Array(whole.prefix(4096)) + noise)), "header + noise")
    }

    @Test func emptyMissingAndForeignFiles() throws {
        let dir = try DatTempDir()
        let empty = dir.file("empty.dat", [])
        #expect(throws: TraceError.empty(path: empty)) { try DatReader(path: empty) }
        let missing = dir.path("missing.dat")
        #expect(throws: TraceError.notFound(path: missing)) { try DatReader(path: missing) }
        let text = Samples.path(try #require(Samples.pairNames.first) + ".txt")
        #expect(throws: TraceError.unrecognisedFormat(path: text)) { try DatReader(path: text) }
        #expect(throws: TraceError.isDirectory(path: dir.url.path)) { try DatReader(path: dir.url.path) }
        let future = dir.file("v9.dat", Self.magic + Array("9".utf8) + [0] + [UInt8](repeating: 0, count: 64))
        #expect {
            try DatReader(path: future)
        } throws: { error in
            guard case TraceError.unreadable(_, let reason) = error else { return false }
            return reason.contains("version 9")
        }
    }
}
