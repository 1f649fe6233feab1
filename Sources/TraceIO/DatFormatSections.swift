import Glibc

/// Bytes libtracecmd reads a part of a trace.dat from: a decompressed v7
/// section, or the file itself from some offset on (an uncompressed v7
/// section, the v6 headers) — libtracecmd reads those with `read()` and does
/// not stop at a section's declared size, so neither do the checks.
struct DatByteSource {
    private enum Storage {
        case memory([UInt8])
        case file(fd: Int32, base: UInt64, size: UInt64)
    }

    private let storage: Storage
    let bigEndian: Bool

    init(bytes: [UInt8], bigEndian: Bool) {
        storage = .memory(bytes)
        self.bigEndian = bigEndian
    }

    /// The file from `base` on; offsets count from `base`.
    init(fd: Int32, fileSize: UInt64, base: UInt64, bigEndian: Bool) {
        storage = .file(fd: fd, base: base, size: fileSize > base ? fileSize - base : 0)
        self.bigEndian = bigEndian
    }

    var size: UInt64 {
        switch storage {
        case .memory(let bytes): return UInt64(bytes.count)
        case .file(_, _, let size): return size
        }
    }

    /// `count` bytes at `offset`, or nil when they run past the end.
    func bytes(at offset: UInt64, count: UInt64) -> [UInt8]? {
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard !overflow, end <= size else { return nil }
        switch storage {
        case .memory(let bytes):
            return Array(bytes[Int(offset)..<Int(end)])
        case .file(let fd, let base, _):
            var buffer = [UInt8](repeating: 0, count: Int(count))
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(count), off_t(base + offset)) }
            return n == Int(count) ? buffer : nil
        }
    }

    func number(at offset: UInt64, width: Int) -> UInt64? {
        bytes(at: offset, count: UInt64(width)).map { Self.number($0, bigEndian: bigEndian) }
    }

    /// The unsigned integer in `raw` (at most 8 bytes), in the file's byte
    /// order: what every trace.dat check reads sizes and offsets with.
    static func number<Bytes: Collection<UInt8>>(_ raw: Bytes, bigEndian: Bool) -> UInt64 {
        var value: UInt64 = 0
        for (i, byte) in raw.enumerated() {
            let shift = bigEndian ? UInt64(raw.count - 1 - i) * 8 : UInt64(i) * 8
            value |= UInt64(byte) << shift
        }
        return value
    }

    /// The offset just past the NUL ending the string at `offset`, or nil.
    func stringEnd(at offset: UInt64) -> UInt64? {
        var at = offset
        while at < size {
            let block = bytes(at: at, count: min(4096, size - at)) ?? []
            guard !block.isEmpty else { return nil }
            if let nul = block.firstIndex(of: 0) { return at + UInt64(nul) + 1 }
            at += UInt64(block.count)
        }
        return nil
    }
}

/// The header_page and event formats of a trace.dat, checked before
/// libtracecmd reads them: the header_page must be the kernel's layout
/// (`DatHeaderPage`) and every event format must pass `DatEventFormatCheck`.
/// The layouts follow trace-cmd.dat.v6(5)/v7(5): "header_page\0", its size
/// (8) and text, "header_event\0", size and text; ftrace formats: a count (4),
/// then per format its size (8) and text; event formats: a count of systems
/// (4), per system its name (NUL-terminated) and a count (4) of formats.
enum DatFormatSections {
    /// A real format is a few KiB; libtracecmd would allocate whatever a
    /// damaged size says.
    static let maximumFormat: UInt64 = 1 << 20

    /// The page layout from the header info at `offset`, and the offset past
    /// the header_page text. Throws the reason when it is not the kernel's.
    static func headerPage(_ source: DatByteSource, at offset: UInt64) throws(DatDamage) -> (DatHeaderPage, UInt64) {
        guard source.bytes(at: offset, count: 12) == Array("header_page\0".utf8),
              let size = source.number(at: offset + 12, width: 8)
        else { throw DatDamage("no header_page format where the file says it is") }
        guard size <= maximumFormat, let text = source.bytes(at: offset + 20, count: size) else {
            throw DatDamage("its header_page format claims \(size) bytes")
        }
        guard let layout = DatHeaderPage.parse(text) else {
            throw DatDamage(size == 0
                ? "it has no header_page format (kernels before 2.6.31 are not supported)"
                : "its header_page format is not the kernel's ring-buffer page layout")
        }
        return (layout, offset + 20 + size)
    }

    /// Checks the ftrace formats at `offset`; returns the offset past them, or
    /// nil where the list is cut off (libtracecmd stops reading there too).
    static func checkFtrace(_ source: DatByteSource, at offset: UInt64) throws(DatDamage) -> UInt64? {
        try ftraceFormats(source, at: offset).check()
    }

    /// Checks the event formats of every system at `offset`; returns the
    /// offset past them, or nil where the list is cut off.
    static func checkEvents(_ source: DatByteSource, at offset: UInt64) throws(DatDamage) -> UInt64? {
        try eventFormats(source, at: offset).check()
    }

    /// The ftrace formats at `offset`, to check.
    static func ftraceFormats(_ source: DatByteSource, at offset: UInt64) -> DatFormatTexts {
        var texts = DatFormatTexts()
        guard let count = source.number(at: offset, width: 4) else { return texts }
        texts.end = texts.gather(source, at: offset + 4, count: count, system: "ftrace")
        return texts
    }

    /// The event formats of every system at `offset`, to check.
    static func eventFormats(_ source: DatByteSource, at offset: UInt64) -> DatFormatTexts {
        var texts = DatFormatTexts()
        guard let systems = source.number(at: offset, width: 4) else { return texts }
        var at = offset + 4
        for _ in 0..<systems {
            guard let nameEnd = source.stringEnd(at: at), let count = source.number(at: nameEnd, width: 4) else { return texts }
            let name = String(decoding: source.bytes(at: at, count: min(64, nameEnd - 1 - at)) ?? [], as: UTF8.self)
            guard let next = texts.gather(source, at: nameEnd + 4, count: count, system: name) else { return texts }
            at = next
        }
        texts.end = at
        return texts
    }

    /// Checks the printk formats at `offset` (a size (4), then lines
    /// "ADDRESS : FORMAT"). libtraceevent 1.7's `tep_parse_printk_formats`
    /// copies what follows each line's first ':' from one byte past it: a
    /// line without a ':', or ending in one, makes it read past the line —
    /// past the buffer on the last line (FuzzDatReader's find).
    static func checkPrintk(_ source: DatByteSource, at offset: UInt64) throws(DatDamage) {
        guard let size = source.number(at: offset, width: 4), size > 0 else { return }
        guard size <= 64 << 20 else { throw DatDamage("its printk formats claim \(size) bytes") }
        guard var text = source.bytes(at: offset + 4, count: size) else { return }
        // libtracecmd terminates the text; libtraceevent copies it up to its first NUL.
        if let nul = text.firstIndex(of: 0) { text.removeSubrange(nul...) }
        for line in text.split(separator: UInt8(ascii: "\n")) {
            // strtok_r(line, ":"): leading ':'s are skipped; a line of only ':'s ends the parse.
            guard let first = line.firstIndex(where: { $0 != UInt8(ascii: ":") }) else { return }
            guard let colon = line[first...].firstIndex(of: UInt8(ascii: ":")), colon + 1 < line.endIndex else {
                throw DatDamage("a printk format line has no text after its address")
            }
        }
    }

    /// Kallsyms and saved command lines: a size (4 and 8 bytes), then text.
    /// libtracecmd allocates size + 1 bytes and reads size: a size of all
    /// ones wraps the allocation to 0 bytes, and the read then writes the rest
    /// of the file past it (FuzzDatReader's find: kallsyms claiming
    /// 0xFFFFFFFF bytes). Real ones are a few MB.
    static func checkSizedText(_ source: DatByteSource, at offset: UInt64, width: Int, what: String) throws(DatDamage) {
        guard let size = source.number(at: offset, width: width) else { return }
        guard size <= maximumText else { throw DatDamage("its \(what) claim \(size) bytes") }
    }

    /// Larger than any kernel's kallsyms (5 MB on 6.18) or command lines.
    static let maximumText: UInt64 = 256 << 20
}

/// What a pre-check found wrong with a file, as one line.
struct DatDamage: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
