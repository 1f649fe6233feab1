import Glibc

/// A read-only memory map of a whole file: the text reader scans it in
/// place, so memory use is the kernel's page cache, not the reader's; pages
/// already scanned are handed back (`release(_:)`). Immutable once mapped:
/// several threads may read it at once.
final class MappedFile: @unchecked Sendable {
    let path: String
    let count: Int
    private let base: UnsafeMutableRawPointer?

    init(path: String) throws {
        self.path = path
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { throw TraceError.notFound(path: path) }
            throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw TraceError.isDirectory(path: path) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fstat(fd, &st) == 0 else {
            throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        count = Int(st.st_size)
        if count == 0 { throw TraceError.empty(path: path) }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        base = p
        _ = madvise(p, count, MADV_SEQUENTIAL)
    }

    deinit {
        if let base { munmap(base, count) }
    }

    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base?.assumingMemoryBound(to: UInt8.self), count: count))
    }

    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Lets the kernel drop the whole pages inside `range` from this process
    /// (they are mapped again, from the page cache, if read later).
    func release(_ range: Range<Int>) {
        guard let base else { return }
        let page = Self.pageSize
        let start = (range.lowerBound + page - 1) / page * page
        let end = range.upperBound / page * page
        if end > start { _ = madvise(base + start, end - start, MADV_DONTNEED) }
    }
}
