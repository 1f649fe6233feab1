import Glibc

/// A buffered writer to a file descriptor (stdout by default). Rendering goes
/// through bytes, not String concatenation, because `events` may print
/// millions of lines. A closed pipe (`wbreplay events … | head`) ends the
/// output quietly instead of killing the process with SIGPIPE.
final class OutputStream {
    private var buffer: [UInt8] = []
    private let fd: Int32
    private(set) var closedByReader = false

    init(fd: Int32 = STDOUT_FILENO) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
        signal(SIGPIPE, SIG_IGN)
    }

    deinit { flush() }

    @inline(__always)
    func write(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    @inline(__always)
    func write(_ string: String) {
        var s = string
        s.withUTF8 { write($0) }
    }

    @inline(__always)
    func write(byte: UInt8) {
        buffer.append(byte)
    }

    func write(decimal value: UInt64) {
        if value == 0 { buffer.append(0x30); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { d in
            while v > 0 {
                d[n] = UInt8(0x30 + v % 10)
                v /= 10
                n += 1
            }
            while n > 0 {
                n -= 1
                buffer.append(d[n])
            }
        }
    }

    func write(decimal value: Int64) {
        if value < 0 {
            buffer.append(UInt8(ascii: "-"))
            write(decimal: value.magnitude)
        } else {
            write(decimal: UInt64(value))
        }
    }

    func flush() {
        guard !buffer.isEmpty, !closedByReader else { buffer.removeAll(keepingCapacity: true); return }
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    closedByReader = true
                    return
                }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
