import CTrace
import Foundation
@testable import TraceIO

/// The recordings and event formats of the kernel lab (`make lab`), shipped in
/// traces/kernels/RELEASE/: CONFIG/WORKLOAD.dat (trace.dat v7, zstd) with its
/// `trace-cmd report -t` twin CONFIG/WORKLOAD.txt, and formats.zst, every
/// events/SYSTEM/EVENT/format of that kernel with header_page and header_event.
enum LabKernels {
    static let dir = Samples.tracesDir.appendingPathComponent("kernels")

    /// The kernels whose formats are shipped, oldest first.
    static var releases: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: dir.appendingPathComponent($0 + "/formats.zst").path) }
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
    }

    /// RELEASE/CONFIG/WORKLOAD of every shipped recording (without `.dat`).
    static var recordings: [String] {
        var found: [String] = []
        for release in releases {
            let kernel = dir.appendingPathComponent(release)
            for sub in ((try? FileManager.default.contentsOfDirectory(atPath: kernel.path)) ?? []).sorted() {
                let files = (try? FileManager.default.contentsOfDirectory(atPath: kernel.appendingPathComponent(sub).path)) ?? []
                found += files.filter { $0.hasSuffix(".dat") }.sorted().map { "\(release)/\(sub)/\($0.dropLast(4))" }
            }
        }
        return found
    }

    static func path(_ recording: String, _ suffix: String) -> String {
        dir.appendingPathComponent(recording + suffix).path
    }

    /// `trace-cmd report -t` of RECORDING's .dat, written to a temporary file
    /// (the caller removes it): the twin is made, not shipped (10x the size).
    static func textTwin(_ recording: String) throws -> String {
        let out = TextSamples.tempDir.appendingPathComponent(recording.replacingOccurrences(of: "/", with: "_") + ".txt")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["trace-cmd", "report", "-t", path(recording, ".dat")]
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileReadUnknown) }
        return out.path
    }

    /// (path, text) of every file in RELEASE/formats.zst, in the order saved:
    /// "#### PATH SIZE\n" then SIZE bytes, per file.
    static func formats(_ release: String) throws -> [(String, [UInt8])] {
        let packed = try [UInt8](Data(contentsOf: dir.appendingPathComponent(release + "/formats.zst")))
        let size = packed.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        guard size < UInt64(1 << 30), let bytes = DatDecompression.decompress(packed, algorithm: "zstd", size: Int(size)) else {
            throw CocoaError(.fileReadCorruptFile)
        }
        var files: [(String, [UInt8])] = []
        var p = 0
        while p < bytes.count {
            guard let newline = bytes[p...].firstIndex(of: 0x0A) else { throw CocoaError(.fileReadCorruptFile) }
            let head = String(decoding: bytes[p..<newline], as: UTF8.self).split(separator: " ")
            guard head.count == 3, head[0] == "####", let count = Int(head[2]), newline + 1 + count <= bytes.count else {
                throw CocoaError(.fileReadCorruptFile)
            }
            files.append((String(head[1]), Array(bytes[(newline + 1)..<(newline + 1 + count)])))
            p = newline + 1 + count
        }
        return files
    }
}
