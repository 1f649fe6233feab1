import Foundation
import Testing
@testable import TraceIO

/// Inputs that once crashed a reader (found by the fuzz targets in Fuzz/ or
/// the corrupt-file tests), kept in Tests/Fixtures/fuzz/. Each must now be
/// rejected with a TraceError — in process, so a regression crashes the suite.
@Suite struct FuzzRegressionTests {
    /// libtracecmd double-freed (glibc abort) on a v7 file ending inside the
    /// options offset after the compression strings; see DatV7Header.
    @Test func datV7HeaderCutInOptionsOffset() throws {
        let path = Samples.fixture("fuzz/dat-v7-header-cut-30.dat")
        #expect(throws: TraceError.self) { _ = try DatReader(path: path) }
        #expect(throws: TraceError.self) { _ = try TraceFile.open(path: path) }
    }

    /// Every cut of a real v7 file's first 64 bytes: the whole fixed header.
    @Test func datV7EveryHeaderCut() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Samples.path("punch_hole.dat")))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wbreplay-cut-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for cut in 11...64 {
            let path = dir.appendingPathComponent("cut-\(cut).dat").path
            FileManager.default.createFile(atPath: path, contents: bytes.prefix(cut))
            #expect(throws: TraceError.self, "cut at \(cut) bytes") { _ = try DatReader(path: path) }
        }
    }

    @Test func headerEndOfARealFile() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Samples.path("punch_hole.dat")))
        // 10 magic, "7\0", endianness, long size, page size (4), "zstd\0", "1.5.4\0", offset (8): 37.
        #expect(DatV7Header.headerEnd(ArraySlice([UInt8](bytes.prefix(512)))) == 37)
        #expect(DatV7Header.headerEnd(ArraySlice([UInt8](bytes.prefix(36)))) == nil)
    }
}
