/// Why a trace could not be read. Every case renders as one line that names
/// the file and the problem; the CLI prints it and exits 2.
public enum TraceError: Error, Sendable, CustomStringConvertible, Equatable {
    case notFound(path: String)
    case isDirectory(path: String)
    case unreadable(path: String, reason: String)
    case empty(path: String)
    case unrecognisedFormat(path: String)
    case corrupt(path: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let p): return "\(p): no such file"
        case .isDirectory(let p): return "\(p): is a directory, not a trace file"
        case .unreadable(let p, let r): return "\(p): cannot read: \(r)"
        case .empty(let p): return "\(p): empty file, not a trace"
        case .unrecognisedFormat(let p):
            return "\(p): not a trace (expected trace.dat, the tracefs trace file or trace-cmd report output)"
        case .corrupt(let p, let r): return "\(p): corrupt trace: \(r)"
        }
    }
}
