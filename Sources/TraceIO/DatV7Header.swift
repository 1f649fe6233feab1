import Glibc

/// Checks that a trace.dat v7 file holds its whole initial header before
/// libtracecmd sees it.
///
/// Why: libtracecmd 3.1.x (`tracecmd_alloc_fd`) frees its compression handle
/// twice — glibc aborts the process — when a v7 file ends inside the 8-byte
/// offset of the first options section, right after the compression name and
/// version strings (found by the FuzzDatReader/corrupt-file tests: the sample
/// traces cut at bytes 29–36). The layout follows trace-cmd.dat.v7(5): magic
/// (10 bytes), version string, endianness (1), long size (1), page size (4),
/// compression name and version strings, options offset (8).
enum DatV7Header {
    /// The magic, version string, endianness, long size and page size come
    /// first; the two compression strings are NUL-terminated and short.
    private static let scanLimit = 512

    static func check(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: scanLimit)
        let count = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, scanLimit, 0) }
        guard count >= 0 else { throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard headerEnd(head.prefix(count)) != nil else {
            throw TraceError.corrupt(path: path, reason: "truncated: the file ends inside its trace.dat v7 header (\(count) bytes)")
        }
    }

    /// The offset just past the options offset, or nil when the bytes end first
    /// (or the compression strings run past the bytes scanned).
    static func headerEnd(_ bytes: ArraySlice<UInt8>) -> Int? {
        var offset = bytes.startIndex + 10 // magic
        guard let versionEnd = bytes[offset...].firstIndex(of: 0) else { return nil }
        offset = versionEnd + 1 + 1 + 1 + 4 // NUL, endianness, long size, page size
        for _ in 0..<2 { // compression name, compression version
            guard offset <= bytes.endIndex, let stringEnd = bytes[offset...].firstIndex(of: 0) else { return nil }
            offset = stringEnd + 1
        }
        offset += 8 // offset of the first options section
        return offset <= bytes.endIndex ? offset : nil
    }
}
