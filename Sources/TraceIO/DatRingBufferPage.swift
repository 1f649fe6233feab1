import Glibc

/// Checks one ring-buffer page the way libtraceevent's kbuffer will walk it,
/// before libtracecmd hands it to kbuffer.
///
/// Why: kbuffer (kbuffer-parse.c, libtraceevent 1.7: `kbuffer_load_subbuffer`,
/// `translate_data`, `update_pointers`, `__next_event`) trusts the page. It
/// takes the size of the page's events from the commit word as is and, when
/// the word's flags say a lost-events count is stored, reads that count
/// *after* the events — before libtracecmd compares the size with the page
/// size — so a damaged commit word makes it read up to 128 MB past the page
/// (FuzzDatReader's find, Tests/Fixtures/fuzz/open-kbuffer-reads-past-page.dat;
/// `trace-cmd report` crashes on it too). It reads each record's header and
/// length word wherever the previous length points, and a damaged length can
/// send its 32-bit position back to where it was: a walk that never ends.
///
/// So the walk here is kbuffer's, with its 32-bit arithmetic, and a page is
/// refused when kbuffer would read outside it or walk in a circle (a walk
/// that goes back but then finds its way out is kbuffer's to survive, and its
/// records are counted as damaged). A record whose
/// claimed length runs past the page's events is not refused: kbuffer
/// returns it and moves on safely, and the reader counts it as damaged
/// (`DatRecordDecoder` checks that a record lies inside its page).
enum DatRingBufferPage {
    /// kbuffer's COMMIT_MASK, MISSING_EVENTS and MISSING_STORED.
    private static let commitMask: UInt64 = (1 << 27) - 1
    private static let missingEvents: UInt64 = 1 << 31
    private static let missingStored: UInt64 = 1 << 30
    /// The kernel's record types (type_len): 1…28 are data of type_len × 4 bytes.
    private static let padding: UInt32 = 29
    private static let timeExtend: UInt32 = 30
    private static let timeStamp: UInt32 = 31

    /// Nil when kbuffer can walk `page` (one whole page) safely, else what is
    /// wrong with it.
    static func damage(in page: UnsafeRawBufferPointer, layout: DatHeaderPage, bigEndian: Bool) -> String? {
        let start = layout.dataOffset
        guard page.count > start else { return "the page is shorter than its header" }
        // Offsets below count from the start of the events, as kbuffer's do.
        let capacity = UInt32(page.count - start)
        let commit = layout.commitSize == 8
            ? read8(page, 8, bigEndian) : UInt64(read4(page, 8, bigEndian))
        let size = UInt32(commit & commitMask)
        guard size <= capacity else {
            return "it claims \(size) bytes of events in a page with room for \(capacity)"
        }
        if commit & missingEvents != 0, commit & missingStored != 0, size + UInt32(layout.commitSize) > capacity {
            return "its lost-events count would lie past the page (\(size) bytes of events)"
        }
        var next: UInt32 = 0
        // Every position is below `size` and the next one depends only on it:
        // more steps than positions means kbuffer walks in a circle.
        var steps: UInt32 = 0
        while next < size {
            steps += 1
            guard steps <= size else { return "its records lead kbuffer's walk in a circle" }
            let current = next
            // The header word, and for paddings, time stamps and long records a second word.
            guard capacity - current >= 4 else { return "a record header at byte \(start + Int(current)) lies past the page" }
            let word = read4(page, start + Int(current), bigEndian)
            let typeLen = bigEndian ? word >> 27 : word & 31
            if typeLen == 0 || typeLen >= padding {
                guard capacity - current >= 8 else { return "a record at byte \(start + Int(current)) lies past the page" }
            }
            switch typeLen {
            case padding:
                // index (after the header) + the length word, in 32 bits.
                next = (current + 4) &+ read4(page, start + Int(current) + 4, bigEndian)
            case timeExtend, timeStamp:
                next = current + 8
            case 0:
                // The length word counts itself; kbuffer rounds it up to words as an int.
                let length = (Int32(bitPattern: read4(page, start + Int(current) + 4, bigEndian) &- 4) &+ 3) & ~3
                next = (current + 8) &+ UInt32(bitPattern: length)
            default:
                next = current + 4 + typeLen * 4
            }
        }
        return nil
    }

    /// Checks every page of `pages` (whole pages of `pageSize` bytes); the
    /// first failure as "page N: reason", N counted from `firstPage`.
    static func damage(
        inPages pages: UnsafeRawBufferPointer, pageSize: Int, firstPage: Int, layout: DatHeaderPage, bigEndian: Bool
    ) -> String? {
        var start = 0
        while start + pageSize <= pages.count {
            let page = UnsafeRawBufferPointer(rebasing: pages[start..<(start + pageSize)])
            if let reason = damage(in: page, layout: layout, bigEndian: bigEndian) {
                return "page \(firstPage + start / pageSize): \(reason)"
            }
            start += pageSize
        }
        return nil
    }

    /// Checks the pages of an uncompressed CPU stream of `size` bytes at
    /// `offset` in the file: libtracecmd maps whole pages, the last one too
    /// when the stream ends inside it, so that one must lie inside the file.
    /// `pageLimit`: check the contents of only that many first pages.
    static func checkStream(
        fd: Int32, fileSize: UInt64, offset: UInt64, size: UInt64, pageSize: Int,
        layout: DatHeaderPage, bigEndian: Bool, pageLimit: UInt64? = nil
    ) throws(DatDamage) {
        let whole = (size + UInt64(pageSize) - 1) / UInt64(pageSize)
        let (end, overflow) = offset.addingReportingOverflow(whole * UInt64(pageSize))
        guard !overflow, end <= fileSize else {
            throw DatDamage("truncated: the last page of the stream at byte \(offset) runs past the end of the file")
        }
        let pages = min(whole, pageLimit ?? whole)
        let pagesPerBlock: UInt64 = 256
        var buffer = [UInt8](repeating: 0, count: Int(pagesPerBlock) * pageSize)
        var page: UInt64 = 0
        while page < pages {
            let count = min(pagesPerBlock, pages - page)
            let bytes = Int(count) * pageSize
            let at = offset + page * UInt64(pageSize)
            let reason: String? = buffer.withUnsafeMutableBytes { raw -> String? in
                guard pread(fd, raw.baseAddress, bytes, off_t(at)) == bytes else { return "cannot read it at byte \(at)" }
                return damage(
                    inPages: UnsafeRawBufferPointer(rebasing: raw[0..<bytes]), pageSize: pageSize,
                    firstPage: Int(page), layout: layout, bigEndian: bigEndian)
            }
            if let reason { throw DatDamage(reason) }
            page += count
        }
    }

    private static func read4(_ page: UnsafeRawBufferPointer, _ offset: Int, _ bigEndian: Bool) -> UInt32 {
        let raw = page.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
    }

    private static func read8(_ page: UnsafeRawBufferPointer, _ offset: Int, _ bigEndian: Bool) -> UInt64 {
        let raw = page.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        return bigEndian ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw)
    }
}
