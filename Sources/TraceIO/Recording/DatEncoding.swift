import Glibc

/// A growing little-endian byte buffer for trace.dat headers and options.
struct LEBuffer {
    var storage: [UInt8] = []
    var count: Int { storage.count }

    mutating func u8(_ v: Int) { storage.append(UInt8(truncatingIfNeeded: v)) }
    mutating func u16(_ v: Int) { append(UInt64(truncatingIfNeeded: v), bytes: 2) }
    mutating func u32(_ v: Int) { append(UInt64(truncatingIfNeeded: v), bytes: 4) }
    mutating func u64(_ v: Int) { append(UInt64(truncatingIfNeeded: v), bytes: 8) }
    mutating func u64(_ v: UInt64) { append(v, bytes: 8) }
    mutating func bytes(_ b: [UInt8]) { storage.append(contentsOf: b) }
    mutating func cString(_ s: String) { storage.append(contentsOf: s.utf8); storage.append(0) }

    private mutating func append(_ v: UInt64, bytes n: Int) {
        for i in 0..<n { storage.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    mutating func patchU64(at offset: Int, _ v: Int) {
        for i in 0..<8 { storage[offset + i] = UInt8(truncatingIfNeeded: UInt64(v) >> (8 * UInt64(i))) }
    }

    /// An option: 2-byte id, 4-byte size, then the data `body` writes.
    mutating func option(_ id: DatWriter.OptionID, _ body: (inout LEBuffer) -> Void) {
        var data = LEBuffer()
        body(&data)
        u16(Int(id.rawValue))
        u32(data.count)
        bytes(data.storage)
    }
}

/// Sequential writes to the output file, tracking the position so the
/// writer can check its precomputed layout.
final class FileSink {
    let fd: Int32
    private(set) var position = 0

    init(fd: Int32) { self.fd = fd }

    func write(_ bytes: [UInt8]) throws {
        guard writeAll(fd, bytes) else { throw RecordError.output(path: "", reason: String(cString: strerror(errno))) }
        position += bytes.count
    }

    func pad(to offset: Int) throws {
        if offset > position { try write([UInt8](repeating: 0, count: offset - position)) }
    }

    /// Appends `size` bytes of the file at `path`, in the kernel where it can
    /// (`sendfile`), through a buffer where it cannot.
    func copy(from path: String, size: Int) throws {
        let src = open(path, O_RDONLY | O_CLOEXEC)
        guard src >= 0 else { throw RecordError.output(path: "", reason: "\(path): \(String(cString: strerror(errno)))") }
        defer { close(src) }
        var remaining = size
        var useSendfile = true
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while remaining > 0 {
            var n: Int
            if useSendfile {
                n = sendfile(fd, src, nil, min(remaining, 1 << 30))
                if n < 0, [EINVAL, ENOSYS, EOPNOTSUPP].contains(errno) {
                    useSendfile = false
                    continue
                }
            } else {
                n = buffer.withUnsafeMutableBytes { read(src, $0.baseAddress, min($0.count, remaining)) }
                if n > 0 {
                    guard writeAll(fd, Array(buffer[0..<n])) else { n = -1; break }
                }
            }
            if n < 0, errno == EINTR { continue }
            if n <= 0 {
                throw RecordError.output(path: "", reason: n == 0 ? "\(path) ended early" : String(cString: strerror(errno)))
            }
            remaining -= n
            position += n
        }
    }
}
