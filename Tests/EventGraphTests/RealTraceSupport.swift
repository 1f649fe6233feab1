import Foundation
import Synchronization
import TraceIO
@testable import EventGraph

/// The sample traces in traces/, found from this source file.
enum Samples {
    static let tracesDir = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("traces")

    static var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: tracesDir.path)) ?? []
        return files.filter { $0.hasSuffix(".dat") }.map { String($0.dropLast(4)) }.sorted()
    }

    static func path(_ name: String, _ ext: String) -> String { tracesDir.appendingPathComponent(name + "." + ext).path }

    private static let cache = Mutex<[String: EventGraph]>([:])

    /// The graph of a sample, built once per test run (several suites ask).
    static func graph(_ name: String, _ ext: String = "dat") throws -> EventGraph {
        let key = name + "." + ext
        if let g = cache.withLock({ $0[key] }) { return g }
        let g = try EventGraph.build(from: reader(path(name, ext)))
        cache.withLock { $0[key] = g }
        return g
    }

    /// Both formats of each sample (one ring buffer, two files).
    static let formats = ["dat", "txt"]

    static func reader(_ path: String) throws -> any TraceReader {
        path.hasSuffix(".dat") ? try DatReader(path: path) : try TextReader(path: path)
    }
}
