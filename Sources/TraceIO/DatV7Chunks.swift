import Glibc

/// Checks, before libtracecmd sees a trace.dat v7 file, that libtracecmd can
/// set up the CPU data of every buffer (top level and instances): the data
/// lies inside the file, an uncompressed stream starts on a page boundary, a
/// compressed one has chunks inside the file whose sizes are whole pages and
/// whose first chunk decompresses, and each stream's first page has a plausible
/// size. What no check foresees, `DatOpenGuard` (or `DatOpenProbe`) catches.
///
/// Why: libtracecmd 3.1.6 sets up every CPU when it opens a buffer
/// (`init_cpu_data`: the chunk table, then the first page, mmapped at its
/// offset or decompressed); when one CPU fails, the cleanup that follows
/// (`tracecmd_close` of the half-built handle) walks list heads of the CPUs
/// not set up yet, which are NULL, and crashes with SIGSEGV. FuzzDatReader
/// found it through a chunk size past the end of the file (one flipped byte)
/// and a damaged zstd chunk; an unaligned stream (no mmap, and no read
/// fallback after CPU 0) and an oversized first page fail the same way. A
/// chunk that claims a huge uncompressed size would make it allocate that
/// much. The walk follows trace-cmd.dat.v7(5): the first OPTIONS
/// section's offset after the file header; each OPTIONS section's DONE option
/// gives the next one; a BUFFER option lists, per CPU, the offset and size of
/// its data; compressed data is a chunk count, then per chunk the compressed
/// size (4), the uncompressed size (4) and the compressed bytes.
///
/// Every option is checked (`DatOptionCheck`). The same walk finds the
/// header info, the ftrace, event and printk formats, kallsyms and command
/// lines (options 16–21: section offsets): their header_page, formats and sizes are
/// checked (`DatFormatSections`), and then every ring-buffer page of every CPU
/// stream (`DatRingBufferPage`), decompressing every chunk of a compressed
/// file once — libtracecmd's kbuffer trusts them all. The pages libtracecmd's
/// open does not read are left to `DatV7LaterPages` (`checkForOpen`), which
/// runs beside the open. The options are read as libtracecmd reads
/// them, to each section's DONE option (`layout(firstOptions:)`). An options
/// section that is itself compressed, or has no DONE in its first 16 MiB,
/// is refused: trace-cmd writes them uncompressed and small, and what the
/// walk cannot read it cannot check.
struct DatV7Chunks {
    /// trace-cmd writes chunks of a few pages (10 by default); a chunk that
    /// claims more than this once decompressed is damage, not data.
    static let maximumUncompressedChunk: UInt64 = 64 << 20
    /// Options sections in a real file: one or two per buffer.
    static let maximumSections = 4096
    /// Options sections hold a few KiB (CPU stats, uname, BUFFER options).
    static let maximumOptionsSection: UInt64 = 16 << 20

    private let fd: Int32
    let fileSize: UInt64
    let bigEndian: Bool
    /// "none", "zstd", "zlib".
    private let compression: String
    /// The page size of the file header, for buffers that do not give theirs.
    private let pageSize: UInt64
    /// A ring-buffer page header's commit word: the data size in the low bits.
    private static let commitMask: UInt64 = (1 << 27) - 1

    struct Failure: Error { let reason: String }

    struct CPUData: Equatable, Sendable {
        var buffer: String
        /// The buffer's name ("" for the top level).
        var bufferName: String
        var cpu: UInt64
        var offset: UInt64
        var size: UInt64
        var pageSize: UInt64
        /// Whether libtracecmd reads it as compressed chunks: the flag of the
        /// buffer's CPU data section, not the file's compression name.
        var compressed: Bool
    }

    /// What the options sections say: the CPU streams.
    struct Layout {
        var cpus: [CPUData] = []
        /// Section offsets of the header info (header_page, header_event),
        /// the ftrace formats and the event formats.
        var headerInfo: [UInt64] = []
        var ftraceFormats: [UInt64] = []
        var eventFormats: [UInt64] = []
        var printkFormats: [UInt64] = []
        var kallsyms: [UInt64] = []
        var commandLines: [UInt64] = []
        /// The timestamp conversion the options ask for.
        var clock = DatClock()
    }

    /// Throws `TraceError.corrupt` naming the first CPU stream or chunk that
    /// runs past the end of the file, or the first damage anywhere.
    static func check(path: String) throws {
        try checkForOpen(path: path).check()
    }

    /// The checks of what libtracecmd's open reads: the options, the
    /// header_page and the formats, every CPU stream's extent and chunk
    /// table, and the pages of each stream's first chunk (of an uncompressed
    /// stream, its first page). Returns the check of the other pages, which
    /// only reading needs: the caller may run it while libtracecmd opens
    /// the file, as long as it ends before the first record is read.
    static func checkForOpen(path: String) throws -> DatV7LaterPages {
        try checkForReading(path: path).laterPages
    }

    /// `checkForOpen`, and where the walk found every CPU's pages and how
    /// the file's timestamps are converted (`DatPageReading` reads them).
    static func checkForReading(path: String) throws -> (laterPages: DatV7LaterPages, streams: DatStreamLayout) {
        try withFile(path) { fd, fileSize in try checkForOpen(path: path, fd: fd, fileSize: fileSize) }
    }

    private static func checkForOpen(
        path: String, fd: Int32, fileSize: UInt64
    ) throws -> (laterPages: DatV7LaterPages, streams: DatStreamLayout) {
        var head = [UInt8](repeating: 0, count: 512)
        let count = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 512, 0) }
        guard count > 0, let headerEnd = DatV7Header.headerEnd(head.prefix(max(0, count))) else {
            throw TraceError.corrupt(path: path, reason: "truncated: the file ends inside its trace.dat v7 header")
        }
        // Magic (10), "7\0", endianness: the compression name follows the page size.
        let versionEnd = head[10...].firstIndex(of: 0)!
        let bigEndian = head[versionEnd + 1] != 0
        let nameStart = versionEnd + 1 + 1 + 1 + 4
        let nameEnd = head[nameStart...].firstIndex(of: 0)!
        let compression = String(decoding: head[nameStart..<nameEnd], as: UTF8.self)
        let pageSizeBytes = Array(head[(versionEnd + 3)..<(versionEnd + 7)])
        let walker = DatV7Chunks(
            fd: fd, fileSize: fileSize, bigEndian: bigEndian, compression: compression,
            pageSize: DatByteSource.number(pageSizeBytes, bigEndian: bigEndian))
        let optionsOffset = walker.number(Array(head[(headerEnd - 8)..<headerEnd]))
        let layout = try walker.layout(firstOptions: optionsOffset)
        let (pages, checked) = try walker.checkFormatsAndFirstChunks(layout)
        var later: [DatV7LaterPages.Stream] = []
        var listed: [String: [(cpu: UInt64, stream: DatStreamLayout.Stream?)]] = [:]
        var order: [String] = []
        for (cpu, (rest, stream)) in zip(layout.cpus, checked) {
            if let rest { later.append(rest) }
            if listed[cpu.bufferName] == nil { order.append(cpu.bufferName) }
            listed[cpu.bufferName, default: []].append((cpu.cpu, stream))
        }
        var buffers: [String: DatStreamLayout.Buffer] = [:]
        for name in order { buffers[name] = DatStreamLayout.Buffer(listed: listed[name]!) }
        let streams = DatStreamLayout(
            bigEndian: bigEndian, commitSize: pages.commitSize, compression: compression, clock: layout.clock,
            buffers: buffers)
        return (DatV7LaterPages(path: path, streams: later, layout: pages, bigEndian: bigEndian, compression: compression),
                streams)
    }

    /// The per-CPU (id, offset, size) of a BUFFER option, as far as it is
    /// whole. Its first 8 bytes are the offset of the buffer's CPU data
    /// section, whose header libtracecmd reads when it sets the buffer up and
    /// whose compression flag decides how it reads the CPU data; the top
    /// level has the file header's page size, an instance its own.
    func bufferCPUs(_ data: [UInt8]) throws -> [CPUData] {
        var p = 8
        guard let nameEnd = data[min(p, data.count)...].firstIndex(of: 0) else { return [] }
        let name = String(decoding: data[p..<nameEnd], as: UTF8.self)
        let section = number(Array(data[0..<8]))
        let flags = number(Array(try read(at: section, count: 16)[2..<4]))
        let compressed = flags & 1 != 0
        guard !compressed || compression != "none" else {
            throw Failure(reason: "damaged: the CPU data of the \(name.isEmpty ? "top level" : "buffer instance \"\(name)\"") is marked compressed in a file without compression")
        }
        guard let clockEnd = data[(nameEnd + 1)...].firstIndex(of: 0) else { return [] }
        p = clockEnd + 1
        guard p + 8 <= data.count else { return [] }
        let bufferPageSize = number(Array(data[p..<(p + 4)]))
        p += 4
        let cpus = number(Array(data[p..<(p + 4)]))
        p += 4
        var result: [CPUData] = []
        for _ in 0..<cpus {
            guard p + 20 <= data.count else { break }
            result.append(CPUData(
                buffer: name.isEmpty ? "top level" : "buffer instance \"\(name)\"", bufferName: name,
                cpu: number(Array(data[p..<(p + 4)])), offset: number(Array(data[(p + 4)..<(p + 12)])),
                size: number(Array(data[(p + 12)..<(p + 20)])), pageSize: name.isEmpty ? pageSize : bufferPageSize,
                compressed: compressed))
            p += 20
        }
        return result
    }

    /// The body of the section at `offset` as libtracecmd reads it:
    /// decompressed (compressed size (4), size (4), data), or the file from
    /// the body on.
    func section(at offset: UInt64) throws -> DatByteSource {
        let header = try read(at: offset, count: 16)
        guard number(Array(header[2..<4])) & 1 != 0 else {
            return DatByteSource(fd: fd, fileSize: fileSize, base: offset + 16, bigEndian: bigEndian)
        }
        let sizes = try read(at: offset + 16, count: 8)
        let packed = number(Array(sizes[0..<4]))
        let unpacked = number(Array(sizes[4..<8]))
        guard unpacked <= Self.maximumUncompressedChunk,
              let body = DatDecompression.decompress(try read(at: offset + 24, count: packed), algorithm: compression, size: Int(unpacked))
        else { throw DatDamage("the section at byte \(offset) does not decompress (\(compression))") }
        return DatByteSource(bytes: body, bigEndian: bigEndian)
    }

    /// The stream's claimed extent, in a compressed file each chunk's, and
    /// the pages libtracecmd's open reads; returns where the rest of its
    /// pages are (nil: none left) and where all of them are (nil: none).
    func checkCPU(_ c: CPUData, pages: DatHeaderPage) throws -> (DatV7LaterPages.Stream?, DatStreamLayout.Stream?) {
        guard c.size > 0 else { return (nil, nil) }
        let (end, overflow) = c.offset.addingReportingOverflow(c.size)
        guard !overflow, end <= fileSize else {
            throw Failure(reason: "truncated: CPU \(c.cpu) data of the \(c.buffer) needs \(overflow ? UInt64.max : end) bytes, the file has \(fileSize)")
        }
        guard c.pageSize >= 64, c.pageSize <= Self.maximumUncompressedChunk, c.pageSize & (c.pageSize - 1) == 0 else {
            throw Failure(reason: "damaged: the \(c.buffer) has a page size of \(c.pageSize) bytes")
        }
        let where_ = "CPU \(c.cpu) of the \(c.buffer)"
        guard c.compressed else {
            guard c.offset % c.pageSize == 0 else {
                throw Failure(reason: "damaged: the data of \(where_) does not start on a page boundary (byte \(c.offset))")
            }
            try checkFirstPage(read(at: c.offset, count: min(16, c.size)), of: where_, pageSize: c.pageSize)
            do {
                // The extent of every page, and the first page's contents.
                try DatRingBufferPage.checkStream(
                    fd: fd, fileSize: fileSize, offset: c.offset, size: c.size, pageSize: Int(c.pageSize),
                    layout: pages, bigEndian: bigEndian, pageLimit: 1)
            } catch {
                throw Failure(reason: "damaged: \(where_): \(error.reason)")
            }
            return (.init(cpu: c, where: where_, resumeAt: c.offset, firstPage: 0, chunks: nil),
                    .init(storage: .plain(offset: c.offset), size: c.size, pageSize: Int(c.pageSize)))
        }
        var pageIndex = 0
        let chunks = number(try read(at: c.offset, count: 4))
        var p = c.offset + 4
        var later: DatV7LaterPages.Stream?
        var table: [DatStreamLayout.Chunk] = []
        var unpackedSize: UInt64 = 0
        for index in 0..<chunks {
            let header = try read(at: p, count: 8)
            let packed = number(Array(header[0..<4]))
            let unpacked = number(Array(header[4..<8]))
            guard p + 8 + packed <= fileSize else {
                throw Failure(reason: "truncated or damaged: compressed chunk \(index) of \(where_) claims \(packed) bytes, past the end of the file (\(fileSize) bytes)")
            }
            guard unpacked > 0, unpacked % c.pageSize == 0, unpacked <= Self.maximumUncompressedChunk else {
                throw Failure(reason: "damaged: compressed chunk \(index) of \(where_) claims \(unpacked) bytes uncompressed, not whole pages")
            }
            // libtracecmd decompresses the first chunk when it opens the
            // buffer, the others as it reads (`DatV7LaterPages`).
            if index == 0 {
                try checkChunk(at: p, packed: packed, unpacked: unpacked, of: c, where: where_,
                               firstPage: pageIndex, pages: pages)
            } else if later == nil {
                later = .init(cpu: c, where: where_, resumeAt: p, firstPage: pageIndex, chunks: chunks - index)
            }
            table.append(.init(fileOffset: p + 8, packed: UInt32(packed), unpacked: UInt32(unpacked)))
            unpackedSize += unpacked
            pageIndex += Int(unpacked / c.pageSize)
            p += 8 + packed
        }
        let stream = table.isEmpty ? nil : DatStreamLayout.Stream(
            storage: .chunks(table), size: unpackedSize, pageSize: Int(c.pageSize))
        return (later, stream)
    }

    /// Decompresses the chunk whose sizes the table gave (read at `at`)
    /// and checks its pages, numbered from `firstPage`.
    func checkChunk(at p: UInt64, packed: UInt64, unpacked: UInt64, of c: CPUData, where where_: String,
                    firstPage: Int, pages: DatHeaderPage) throws {
        guard let data = DatDecompression.decompress(
            try read(at: p + 8, count: packed), algorithm: compression, size: Int(unpacked))
        else {
            throw Failure(reason: "damaged: \(firstPage == 0 ? "the first" : "a") compressed chunk of \(where_) does not decompress (\(compression))")
        }
        if firstPage == 0 { try checkFirstPage(Array(data.prefix(16)), of: where_, pageSize: c.pageSize) }
        if let reason = data.withUnsafeBytes({
            DatRingBufferPage.damage(
                inPages: $0, pageSize: Int(c.pageSize), firstPage: firstPage, layout: pages, bigEndian: bigEndian)
        }) {
            throw Failure(reason: "damaged: \(where_): \(reason)")
        }
    }

    /// The pages of `stream` that `checkCPU` left: the chunks from its
    /// resume point on (their sizes were checked then), or every page of an
    /// uncompressed stream.
    func checkLaterPages(_ stream: DatV7LaterPages.Stream, pages: DatHeaderPage) throws {
        let c = stream.cpu
        guard let chunks = stream.chunks else {
            do {
                try DatRingBufferPage.checkStream(
                    fd: fd, fileSize: fileSize, offset: c.offset, size: c.size, pageSize: Int(c.pageSize),
                    layout: pages, bigEndian: bigEndian)
            } catch {
                throw Failure(reason: "damaged: \(stream.where): \(error.reason)")
            }
            return
        }
        var p = stream.resumeAt
        var pageIndex = stream.firstPage
        for _ in 0..<chunks {
            let header = try read(at: p, count: 8)
            let packed = number(Array(header[0..<4]))
            let unpacked = number(Array(header[4..<8]))
            try checkChunk(at: p, packed: packed, unpacked: unpacked, of: c, where: stream.where,
                           firstPage: pageIndex, pages: pages)
            pageIndex += Int(unpacked / c.pageSize)
            p += 8 + packed
        }
    }

    /// Runs `body` on a walker of `path` (the later pages' check opens the
    /// file again), its failures as the file's `TraceError.corrupt`.
    static func walking(_ path: String, bigEndian: Bool, compression: String,
                        _ body: (DatV7Chunks) throws -> Void) throws {
        try withFile(path) { fd, fileSize in
            // The file header's page size is only for the options walk.
            try body(DatV7Chunks(fd: fd, fileSize: fileSize, bigEndian: bigEndian, compression: compression, pageSize: 0))
        }
    }

    /// Opens `path` for `body`, turning a walk's failures and damage into
    /// the file's `TraceError.corrupt`.
    private static func withFile<R>(_ path: String, _ body: (Int32, UInt64) throws -> R) throws -> R {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        do {
            return try body(fd, UInt64(st.st_size))
        } catch let failure as Failure {
            throw TraceError.corrupt(path: path, reason: failure.reason)
        } catch let damage as DatDamage {
            throw TraceError.corrupt(path: path, reason: "damaged: \(damage.reason)")
        }
    }

    /// A page header is a timestamp (8 bytes) and a commit word whose low
    /// bits are the data size: libtracecmd refuses a first page larger than a page.
    private func checkFirstPage(_ header: [UInt8], of where_: String, pageSize: UInt64) throws {
        guard header.count >= 16 else { return } // shorter data: libtracecmd reads zeros
        let commit = number(Array(header[8..<16])) & Self.commitMask
        guard commit <= pageSize else {
            throw Failure(reason: "damaged: the first page of \(where_) claims \(commit) bytes of events in a \(pageSize)-byte page")
        }
    }

    // MARK: - Reading

    func read(at offset: UInt64, count: UInt64) throws -> [UInt8] {
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard !overflow, end <= fileSize else {
            throw Failure(reason: "truncated or damaged: a v7 section at byte \(offset) runs past the end of the file (\(fileSize) bytes)")
        }
        var buffer = [UInt8](repeating: 0, count: Int(count))
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(count), off_t(offset)) }
        guard n == Int(count) else { throw Failure(reason: "cannot read the v7 file at byte \(offset)") }
        return buffer
    }

    func number(_ raw: [UInt8]) -> UInt64 { DatByteSource.number(raw, bigEndian: bigEndian) }
}
