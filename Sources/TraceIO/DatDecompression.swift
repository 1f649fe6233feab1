import CTrace

/// Decompresses one block of a trace.dat v7 file with the algorithm its header
/// names, as libtracecmd does (trace-compress-zstd.c: one zstd frame;
/// trace-compress-zlib.c: zlib's `uncompress`). Used to check a file before
/// libtracecmd opens it (`DatV7Chunks`), never to read events.
enum DatDecompression {
    /// The decompressed bytes, or nil when `data` does not decompress to
    /// exactly `size` bytes (or the algorithm is not one of the two).
    static func decompress(_ data: [UInt8], algorithm: String, size: Int) -> [UInt8]? {
        guard size > 0 else { return nil }
        var out = [UInt8](repeating: 0, count: size)
        let ok: Bool = out.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in
                switch algorithm {
                case "zstd":
                    let n = ZSTD_decompress(dst.baseAddress, size, src.baseAddress, src.count)
                    return ZSTD_isError(n) == 0 && n == size
                case "zlib":
                    var length = uLongf(size)
                    let status = uncompress(
                        dst.baseAddress!.assumingMemoryBound(to: Bytef.self), &length,
                        src.baseAddress?.assumingMemoryBound(to: Bytef.self), uLong(src.count))
                    return status == Z_OK && Int(length) == size
                default:
                    return false
                }
            }
        }
        return ok ? out : nil
    }
}
