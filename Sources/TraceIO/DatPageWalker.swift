/// One record of a ring-buffer page, described as libtracecmd's `tep_record`
/// would describe it: its timestamp after the file's clock options, where
/// its payload is, the payload's and the whole record's sizes (from kbuffer's
/// 32-bit positions, so that a damaged length shows as it would), where in
/// its page it starts, and the events lost before it.
struct DatPageRecord {
    var timestamp: UInt64
    /// The payload (kbuffer's `data + index`): always inside the page, but
    /// only `DatRecordDecoder`'s check says whether `size` bytes are.
    var data: UnsafeRawPointer
    /// `kbuffer_event_size` and `kbuffer_curr_size`.
    var size: Int32
    var recordSize: Int32
    /// The record's offset in its page (`kbuffer_curr_offset`).
    var inPage: Int32
    /// `kbuffer_missed_events`: > 0 that many lost before this record, < 0 an
    /// unknown number, 0 none (only a page's record at offset 0 has any).
    var missed: Int64
}

/// Walks one ring-buffer page as libtraceevent's kbuffer does
/// (kbuffer-parse.c, libtraceevent 1.7: `kbuffer_load_subbuffer`,
/// `__next_event`, `update_pointers`, `translate_data`,
/// `kbuffer_missed_events`) for the records libtracecmd would make of it,
/// without libtracecmd's per-record allocation and bookkeeping.
///
/// The page header is a 64-bit timestamp and a commit word (4 or 8 bytes, the
/// header_page format's `commit`) whose low 27 bits are the size of the
/// events and whose bits 31 and 30 say events were lost before the page and
/// whether their number is stored after the events. Each record starts with
/// a 32-bit word: type_len (5 bits) and time_delta (27 bits). type_len 1…28:
/// a record of type_len × 4 payload bytes; 0: the payload length (counting
/// itself) is in the next word; 29: padding (its length in the next word);
/// 30: a time extend (delta high bits in the next word); 31: an absolute
/// timestamp (its top 5 bits from the current time). Positions are kbuffer's
/// 32-bit unsigned ones, lengths its ints, so a damaged page walks as it does.
///
/// Unlike kbuffer, nothing is read outside the page: where kbuffer would, the
/// page ends (the trace.dat checks, `DatRingBufferPage`, refuse such pages
/// before any reading starts, so that only garbage never checked gets here).
enum DatPageWalker {
    private static let commitMask: UInt64 = (1 << 27) - 1
    private static let missingEvents: UInt64 = 1 << 31
    private static let missingStored: UInt64 = 1 << 30
    /// kbuffer's TS_MSB: an absolute timestamp keeps these bits of the time before it.
    private static let timestampHighBits: UInt64 = 0xf8 << 56
    private static let padding: UInt32 = 29
    private static let timeExtend: UInt32 = 30
    private static let absoluteTime: UInt32 = 31

    /// Appends the records of `page` (one whole page) to `records`.
    /// `commitSize`: 4 or 8 (`DatHeaderPage.commitSize`).
    static func walk(
        page: UnsafeRawBufferPointer, commitSize: Int, bigEndian: Bool, clock: DatClock,
        into records: inout some DatRecordSink
    ) {
        let start = 8 + commitSize
        guard let base = page.baseAddress, page.count >= start, page.count - start <= Int(UInt32.max) else { return }
        let capacity = UInt32(page.count - start)
        let events = base + start
        @inline(__always) func word(_ at: UInt32) -> UInt32 {
            let raw = events.loadUnaligned(fromByteOffset: Int(at), as: UInt32.self)
            return bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
        }
        let rawTime = base.loadUnaligned(as: UInt64.self)
        var timestamp = bigEndian ? UInt64(bigEndian: rawTime) : UInt64(littleEndian: rawTime)
        let commit: UInt64
        if commitSize == 8 {
            let raw = base.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            commit = bigEndian ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw)
        } else {
            let raw = base.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
            commit = UInt64(bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw))
        }
        let size = UInt32(truncatingIfNeeded: commit & commitMask)
        // libtracecmd refuses a page whose events claim more than a page
        // (update_page_info); kbuffer would read past a smaller one.
        guard size <= capacity else { return }
        // kbuffer_missed_events returns the stored count as a C int.
        var missed: Int64 = 0
        if commit & missingEvents != 0 {
            if commit & missingStored != 0 {
                guard UInt64(size) + UInt64(commitSize) <= UInt64(capacity) else { return }
                let stored: UInt64
                if commitSize == 8 {
                    let raw = events.loadUnaligned(fromByteOffset: Int(size), as: UInt64.self)
                    stored = bigEndian ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw)
                } else {
                    stored = UInt64(word(size))
                }
                missed = Int64(Int32(truncatingIfNeeded: stored))
            } else {
                missed = -1
            }
        }
        var next: UInt32 = 0
        // Each step's position is below `size`; more steps than positions is
        // a walk in a circle (which the checks refuse).
        var steps: UInt32 = 0
        while next < size {
            steps += 1
            guard steps <= size else { return }
            let current = next
            guard capacity - current >= 4 else { return }
            let header = word(current)
            let typeLen = bigEndian ? header >> 27 : header & 31
            let delta = UInt64(bigEndian ? header & ((1 << 27) - 1) : header >> 5)
            let index: UInt32
            if typeLen == 0 || typeLen >= padding {
                guard capacity - current >= 8 else { return }
            }
            switch typeLen {
            case padding:
                timestamp &+= delta
                next = (current + 4) &+ word(current + 4)
                continue
            case timeExtend:
                timestamp &+= (UInt64(word(current + 4)) << 27) &+ delta
                next = current + 8
                continue
            case absoluteTime:
                timestamp = ((UInt64(word(current + 4)) << 27) &+ delta) | (timestamp & timestampHighBits)
                next = current + 8
                continue
            case 0:
                // The length word counts itself; rounded up to words as a C int.
                let length = (Int32(bitPattern: word(current + 4) &- 4) &+ 3) & ~3
                index = current + 8
                next = index &+ UInt32(bitPattern: length)
            default:
                index = current + 4
                next = index + typeLen * 4
            }
            timestamp &+= delta
            records.append(DatPageRecord(
                timestamp: clock.apply(timestamp), data: UnsafeRawPointer(events + Int(index)),
                size: Int32(bitPattern: next &- index), recordSize: Int32(bitPattern: next &- current),
                inPage: Int32(start) + Int32(current), missed: current == 0 ? missed : 0))
        }
    }
}
