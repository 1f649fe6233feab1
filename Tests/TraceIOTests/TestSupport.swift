import Foundation

/// Paths of the sample traces shipped in traces/, found from this source file
/// so that tests run from any working directory.
enum Samples {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let tracesDir = root.appendingPathComponent("traces")

    /// The names of the traces that exist as a .txt/.dat pair from one ring buffer.
    static var pairNames: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: tracesDir.path)) ?? []
        return files.filter { $0.hasSuffix(".dat") }
            .map { String($0.dropLast(4)) }
            .filter { files.contains($0 + ".txt") }
            .sorted()
    }

    static func path(_ name: String) -> String { tracesDir.appendingPathComponent(name).path }
}
