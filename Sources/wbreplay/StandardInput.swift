import Glibc
import TraceIO

/// `-` as a trace: both readers need a file they can map or seek (libtracecmd
/// opens the path itself, and again when it renews its handle), so standard
/// input is read through `/proc/self/fd/N` — fd 0 itself when it is a
/// regular file (`< trace.dat`), else a copy in an unlinked temporary file
/// that disappears with the process whatever way it ends.
enum StandardInput {
    static let name = "-"
    nonisolated(unsafe) private static var spooled: String?

    /// The path that opens standard input's bytes (copied once per process).
    static func path() throws -> String {
        if let spooled { return spooled }
        var st = stat()
        if fstat(0, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
            spooled = "/proc/self/fd/0"
            return spooled!
        }
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(dir)/wbreplay-stdin-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw TraceError.unreadable(path: name, reason: "cannot make a temporary file in \(dir): \(String(cString: strerror(errno)))")
        }
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TraceError.unreadable(path: name, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            var off = 0
            while off < n {
                let w = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + off, n - off) }
                if w < 0 {
                    if errno == EINTR { continue }
                    throw TraceError.unreadable(path: name, reason: "cannot spool it to \(dir): \(String(cString: strerror(errno)))")
                }
                off += w
            }
            total += n
        }
        if total == 0 { throw TraceError.empty(path: name) }
        spooled = "/proc/self/fd/\(fd)"
        return spooled!
    }
}

extension TraceError {
    /// The same error naming the file as the user did (`-`, not the
    /// `/proc/self/fd` path it was read through).
    func naming(_ shown: String, for actual: String) -> TraceError {
        guard shown != actual else { return self }
        func fix(_ p: String) -> String { p == actual ? shown : p }
        switch self {
        case .notFound(let p): return .notFound(path: fix(p))
        case .isDirectory(let p): return .isDirectory(path: fix(p))
        case .unreadable(let p, let r): return .unreadable(path: fix(p), reason: r)
        case .empty(let p): return .empty(path: fix(p))
        case .unrecognisedFormat(let p): return .unrecognisedFormat(path: fix(p))
        case .corrupt(let p, let r): return .corrupt(path: fix(p), reason: r)
        }
    }
}
