import Glibc

/// The readers take a path (libtracecmd opens the file itself), so each fuzz
/// input is written to an in-memory file and handed over as /proc/self/fd/N.
/// The file lives on tmpfs (/dev/shm) and is unlinked as soon as it is open
/// (Glibc's Swift module does not export memfd_create): one file per process,
/// truncated and rewritten per run, no disk traffic, nothing left behind.
public final class MemoryFile: @unchecked Sendable {
    public let fd: Int32
    public let path: String

    public init(name: String) {
        let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        let file = "\(directory)/wbreplay-\(name)-\(getpid())"
        fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot create \(file): errno \(errno)")
        unlink(file)
        path = "/proc/self/fd/\(fd)"
    }

    /// Replaces the file's whole content with `size` bytes from `data`.
    public func replaceContents(_ data: UnsafePointer<UInt8>, _ size: Int) {
        precondition(ftruncate(fd, 0) == 0)
        var written = 0
        while written < size {
            let n = pwrite(fd, data + written, size - written, off_t(written))
            precondition(n > 0, "pwrite failed: errno \(errno)")
            written += n
        }
    }
}
