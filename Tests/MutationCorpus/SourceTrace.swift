import Foundation
import TraceIO

/// A real trace, read once into memory with every field and the printed
/// text of text-trace events (the injector copies its events as templates).
public struct SourceTrace: Sendable {
    /// The file, as opened.
    public let path: String
    /// Its name relative to the directory the corpus was built from
    /// (`diff/diff_default_a.dat`): the case ids use it.
    public let name: String
    public let records: [TraceRecord]
    public let metadata: TraceMetadata

    public init(path: String, name: String, records: [TraceRecord], metadata: TraceMetadata) {
        self.path = path
        self.name = name
        self.records = records
        self.metadata = metadata
    }

    /// Reads the trace at `path` with the project's readers.
    public static func load(path: String, name: String) throws -> SourceTrace {
        let reader = try TraceFile.open(path: path)
        var records: [TraceRecord] = []
        try reader.forEach(ReadOptions(fields: .all, keepRawText: true)) { records.append($0) }
        return SourceTrace(path: path, name: name, records: records, metadata: reader.metadata)
    }

    /// Text traces print microseconds: new timestamps must be multiples of this.
    public var resolution: UInt64 {
        for r in records { if case .event(let e) = r { return max(1, e.timestampResolution) } }
        return 1
    }

    public var isText: Bool {
        if case .traceDat = metadata.format { return false }
        return true
    }

    public var eventCount: Int {
        records.reduce(0) { n, r in if case .event = r { return n + 1 } else { return n } }
    }
}

/// The traces a directory holds: every `.dat` and `.txt` below it, sorted,
/// so that a new recording directory (another kernel's) is just another input.
public enum TraceCatalog {
    public static let extensions: Set<String> = ["dat", "txt"]

    /// Paths relative to `root`, sorted; none below the folders named in
    /// `skipping` (relative to `root`).
    public static func traces(under root: String, skipping: Set<String> = []) -> [String] {
        let base = URL(fileURLWithPath: root).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey]) else {
            return []
        }
        var found: [String] = []
        for case let url as URL in walker where extensions.contains(url.pathExtension) {
            let full = url.standardizedFileURL.path
            guard full.hasPrefix(base.path + "/") else { continue }
            let name = String(full.dropFirst(base.path.count + 1))
            guard !skipping.contains(where: { name.hasPrefix($0 + "/") }) else { continue }
            found.append(name)
        }
        return found.sorted()
    }
}
