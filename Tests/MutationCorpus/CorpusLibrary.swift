import Foundation
import TraceIO

/// The traces of one directory tree, read on demand and kept, and the
/// cases made from them. Safe to use from parallel tests: a trace is read
/// once, by the first test that needs it, while the others wait.
public final class CorpusLibrary: @unchecked Sendable {
    public let root: String
    public let traceNames: [String]
    private let lock = NSRecursiveLock()
    private var indexes: [String: TraceIndex] = [:]
    private var books: [String: TemplateBook] = [:]
    private var recorded: [String: Set<String>] = [:]

    /// The traces below `root`, but none below the folders named in `skipping`.
    public init(root: String, skipping: Set<String> = []) {
        self.root = root
        traceNames = TraceCatalog.traces(under: root, skipping: skipping)
    }

    /// Every case id of every trace.
    public var caseIDs: [CaseID] { traceNames.flatMap { CaseID.all(trace: $0) } }

    public func index(_ name: String) throws -> TraceIndex {
        try lock.withLock {
            if let i = indexes[name] { return i }
            let built = TraceIndex(try SourceTrace.load(path: root + "/" + name, name: name))
            indexes[name] = built
            return built
        }
    }

    /// Templates for edits of `name`: its own events first, then those of
    /// the recordings of the same kernel in the same format (a tracefs text
    /// trace takes text templates only, so the printed lines stay the
    /// kernel's; a trace.dat takes trace.dat templates of its kernel release).
    public func templates(for name: String) throws -> TemplateBook {
        lock.lock()
        defer { lock.unlock() }
        if let b = books[name] { return b }
        let own = try index(name)
        var book = TemplateBook()
        book.add(own)
        for other in traceNames where other != name {
            let o = try index(other)
            guard o.source.metadata.format == own.source.metadata.format,
                  o.source.metadata.kernelRelease == own.source.metadata.kernelRelease else { continue }
            book.add(o)
        }
        // `trace-cmd report` prints differently from tracefs: its templates
        // come from the trace.dat it was made from (same stem), by their fields.
        if own.source.metadata.format == .traceCmdReport {
            let stem = String(name.dropLast(4))
            if traceNames.contains(stem + ".dat") { book.add(try index(stem + ".dat"), printed: false) }
        }
        books[name] = book
        return book
    }

    /// What `Plausibility` finds in the recording itself (its keys): an
    /// edited trace is judged on what the edit added.
    public func recordedProblems(_ name: String) throws -> Set<String> {
        try lock.withLock {
            if let r = recorded[name] { return r }
            let source = try index(name).source
            let keys = Plausibility.keys(CaseTrace(records: source.records, metadata: source.metadata, stableWrites: false))
            recorded[name] = keys
            return keys
        }
    }

    public func make(_ id: CaseID) throws -> CaseOutcome {
        CaseMaker.make(id, index: try index(id.trace), templates: try templates(for: id.trace))
    }
}
