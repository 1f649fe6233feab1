import CTrace

/// The ring-buffer pages of one CPU stream (or of a contiguous part of it),
/// in order, a block at a time: straight from the mapped file when the
/// stream is stored plain, decompressed chunk by chunk (zstd or zlib, as
/// libtracecmd's `read_zpage` does) when it is compressed.
///
/// A part starts and ends on a unit boundary: a page of a plain stream, a
/// chunk of a compressed one (a chunk holds whole pages: `DatV7Chunks`
/// refuses any other). Used by one thread at a time.
struct DatPageSource: @unchecked Sendable {
    let stream: DatStreamLayout.Stream
    let file: DatFileMap
    let compression: String
    /// Units left: [next, end).
    private(set) var next: Int
    let end: Int
    private var zstd: OpaquePointer?
    /// Where the compressed input not yet handed back to the kernel starts.
    private var releasedTo = 0

    /// The whole stream, or units `units` of it (pages when plain, chunks
    /// when compressed).
    init(stream: DatStreamLayout.Stream, file: DatFileMap, compression: String, units: Range<Int>? = nil) {
        self.stream = stream
        self.file = file
        self.compression = compression
        let all = 0..<stream.unitCount
        let range = units.map { $0.clamped(to: all) } ?? all
        next = range.lowerBound
        end = range.upperBound
        if case .chunks(let chunks) = stream.storage, next < end { releasedTo = Int(chunks[next].fileOffset) }
    }

    /// Frees the decompression context (the source cannot be used after).
    mutating func close() {
        if let zstd { ZSTD_freeDCtx(zstd) }
        zstd = nil
    }

    var isFinished: Bool { next >= end }

    /// The next pages, about `targetBytes` of them (at least one unit), into
    /// `buffer` when they must be decompressed; nil when the part is done.
    /// Throws `TraceError.corrupt` for pages that are not in the file or do
    /// not decompress (the trace.dat checks refuse both before reading).
    mutating func nextPages(targetBytes: Int, buffer: DatPageBuffer) throws -> UnsafeRawBufferPointer? {
        guard next < end else { return nil }
        let pageSize = stream.pageSize
        switch stream.storage {
        case .plain(let offset):
            let count = min(end - next, max(1, targetBytes / pageSize))
            let (start, overflow) = offset.addingReportingOverflow(UInt64(next) * UInt64(pageSize))
            let bytes = count * pageSize
            guard !overflow, start <= UInt64(file.bytes.count), UInt64(file.bytes.count) - start >= UInt64(bytes) else {
                throw corrupt("page \(next) lies past the end of the file")
            }
            next += count
            return UnsafeRawBufferPointer(rebasing: file.bytes[Int(start)..<(Int(start) + bytes)])
        case .chunks(let chunks):
            var total = 0
            var last = next
            while last < end, total == 0 || total + Int(chunks[last].unpacked) <= targetBytes {
                total += Int(chunks[last].unpacked)
                last += 1
            }
            buffer.reserve(total)
            var at = 0
            for index in next..<last {
                try decompress(chunks[index], into: buffer.base! + at, index: index)
                at += Int(chunks[index].unpacked)
            }
            next = last
            // The compressed input is read once: hand its memory pages back
            // (a long trace would otherwise keep all of them resident). The
            // page the last chunk ends in goes with the next chunks.
            let consumed = Int(chunks[last - 1].fileOffset) + Int(chunks[last - 1].packed)
            if consumed > releasedTo {
                file.release(releasedTo..<consumed)
                releasedTo = consumed / MappedFile.pageSize * MappedFile.pageSize
            }
            // Whole pages only (a chunk holds whole pages when the checks passed).
            return UnsafeRawBufferPointer(start: buffer.base, count: total / pageSize * pageSize)
        }
    }

    private mutating func decompress(_ chunk: DatStreamLayout.Chunk, into out: UnsafeMutableRawPointer, index: Int) throws {
        let (end, overflow) = chunk.fileOffset.addingReportingOverflow(UInt64(chunk.packed))
        guard !overflow, end <= UInt64(file.bytes.count), let base = file.bytes.baseAddress else {
            throw corrupt("compressed chunk \(index) lies past the end of the file")
        }
        let input = base + Int(chunk.fileOffset)
        let size = Int(chunk.unpacked)
        let ok: Bool
        switch compression {
        case "zstd":
            if zstd == nil { zstd = ZSTD_createDCtx() }
            let n = ZSTD_decompressDCtx(zstd, out, size, input, Int(chunk.packed))
            ok = ZSTD_isError(n) == 0 && n == size
        case "zlib":
            var length = uLongf(size)
            let status = uncompress(
                out.assumingMemoryBound(to: Bytef.self), &length, input.assumingMemoryBound(to: Bytef.self),
                uLong(chunk.packed))
            ok = status == Z_OK && Int(length) == size
        default:
            ok = false
        }
        guard ok else { throw corrupt("compressed chunk \(index) does not decompress (\(compression))") }
    }

    private func corrupt(_ reason: String) -> TraceError {
        TraceError.corrupt(path: file.path, reason: "damaged: \(reason)")
    }
}

extension DatStreamLayout.Stream {
    /// What a part of the stream is counted in: pages of a plain stream,
    /// chunks of a compressed one.
    var unitCount: Int {
        switch storage {
        case .plain: return pageCount
        case .chunks(let chunks): return chunks.count
        }
    }

    /// The uncompressed bytes of units `range`.
    func bytes(ofUnits range: Range<Int>) -> UInt64 {
        switch storage {
        case .plain: return UInt64(range.count) * UInt64(pageSize)
        case .chunks(let chunks): return chunks[range].reduce(0) { $0 + UInt64($1.unpacked) }
        }
    }
}

/// Memory that decompressed pages are written to, kept and reused.
final class DatPageBuffer: @unchecked Sendable {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var capacity = 0

    /// Makes room for `count` bytes (the contents are not kept).
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        base?.deallocate()
        base = .allocate(byteCount: count, alignment: 16)
        capacity = count
    }

    deinit { base?.deallocate() }
}

/// A trace.dat mapped read-only, shared by the threads reading its pages.
final class DatFileMap: @unchecked Sendable {
    let path: String
    let bytes: UnsafeRawBufferPointer
    private let file: MappedFile

    init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        bytes = file.withBytes { UnsafeRawBufferPointer($0) }
    }

    /// Lets the kernel drop the whole memory pages inside `range` (bytes of
    /// the file) from this process: they are read again from the page cache
    /// if touched later, so releasing is never wrong, only maybe slow.
    func release(_ range: Range<Int>) { file.release(range) }

    /// Where `pages` lie in the file, when they are read in the map itself.
    func range(of pages: UnsafeRawBufferPointer) -> Range<Int>? {
        guard let base = bytes.baseAddress, let start = pages.baseAddress,
              start >= base, start + pages.count <= base + bytes.count else { return nil }
        let offset = start - base
        return offset..<(offset + pages.count)
    }
}
