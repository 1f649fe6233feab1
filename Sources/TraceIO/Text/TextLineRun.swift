import Glibc

/// Decodes the lines of one byte range of a mapped text trace, in order:
/// the whole file for `TextReader.forEach`, one part of it for
/// `TextReader.forEachPart`.
///
/// A LOST line precedes the next event of its CPU: its loss is reported with
/// that event's timestamp, just before it, and LOST lines with no event of
/// their CPU between them are one gap. In a part (`holdsLeading`), the
/// losses before a CPU's first event of the part are held back
/// (`leading`), since LOST lines of earlier parts may belong to the same
/// gap: `TextPartLosses` joins them across parts.
struct TextLineRun {
    /// Lines read, and the damaged ones (garbled, cut, or a last line
    /// without its newline) with the 1-based number of the first.
    private(set) var lines = 0
    private(set) var damaged = 0
    private(set) var firstDamaged: Int?
    /// Per CPU, the loss waiting for the CPU's next event.
    private(set) var pending: [LostEvents?] = []
    /// Parts only: per CPU, whether the part had an event of it, the
    /// timestamp of the first one, and the losses before it.
    let holdsLeading: Bool
    private(set) var seen: [Bool] = []
    private(set) var firstTimestamps: [UInt64] = []
    private(set) var leading: [LostEvents?] = []

    init(holdsLeading: Bool) {
        self.holdsLeading = holdsLeading
    }

    /// One gap from two losses of a CPU with no event between: the sum, or
    /// an unknown number when either is.
    static func joined(_ earlier: LostEvents?, _ later: LostEvents?) -> LostEvents? {
        guard let earlier else { return later }
        guard let later else { return earlier }
        let total = earlier.count.flatMap { a in later.count.map { a + $0 } }
        return LostEvents(cpu: earlier.cpu, count: total, timestamp: nil)
    }

    /// Decodes the lines in `range` of `all` (which starts a line and ends
    /// after a newline, or at the end of the file), handing each record to
    /// `body`. `file`: pages already read are handed back to the kernel.
    /// `progress`: told the offset of the line being read every
    /// `TextReader.progressBytes`.
    mutating func scan(
        _ all: UnsafeBufferPointer<UInt8>, range: Range<Int>, decoder: inout TextEventDecoder, file: MappedFile,
        progress: ((_ offset: Int) -> Void)? = nil, _ body: (TraceRecord) throws -> Void
    ) rethrows {
        guard let base = all.baseAddress else { return }
        var start = range.lowerBound
        var sinceRelease = 0
        var releasedUpTo = range.lowerBound
        var nextProgress = start
        while start < range.upperBound {
            lines += 1
            if let progress, start >= nextProgress {
                nextProgress = start + TextReader.progressBytes
                progress(start)
            }
            let newline = memchr(base + start, 0x0A, range.upperBound - start)
            guard let newline else {
                // Cut while being written: the fields may be incomplete.
                markDamaged()
                break
            }
            var end = UnsafeRawPointer(newline).assumingMemoryBound(to: UInt8.self) - base
            let next = end + 1
            if end > start, all[end - 1] == 0x0D { end -= 1 }
            let line = UnsafeBufferPointer(rebasing: all[start..<end])
            start = next
            switch TextLineScanner.scan(line) {
            case .ignorable:
                continue
            case .damaged:
                markDamaged()
            case .lost(let cpu, let count):
                grow(to: cpu)
                let lost = LostEvents(cpu: cpu, count: count, timestamp: nil)
                if holdsLeading, !seen[cpu] {
                    leading[cpu] = Self.joined(leading[cpu], lost)
                } else {
                    pending[cpu] = Self.joined(pending[cpu], lost)
                }
            case .event(let scanned):
                guard let record = decoder.decode(line, scanned) else {
                    markDamaged()
                    continue
                }
                let cpu = scanned.cpu
                if holdsLeading {
                    grow(to: cpu)
                    if !seen[cpu] {
                        seen[cpu] = true
                        firstTimestamps[cpu] = scanned.timestamp
                    }
                }
                if cpu < pending.count, var lost = pending[cpu] {
                    lost.timestamp = scanned.timestamp
                    pending[cpu] = nil
                    try body(.lost(lost))
                }
                try body(record)
            }
            sinceRelease += line.count
            if sinceRelease > 8 << 20 {
                file.release(releasedUpTo..<start)
                releasedUpTo = start
                sinceRelease = 0
            }
        }
    }

    private mutating func markDamaged() {
        damaged += 1
        if firstDamaged == nil { firstDamaged = lines }
    }

    private mutating func grow(to cpu: Int) {
        guard cpu >= pending.count else { return }
        let more = cpu + 1 - pending.count
        pending += repeatElement(nil, count: more)
        if holdsLeading {
            seen += repeatElement(false, count: more)
            firstTimestamps += repeatElement(0, count: more)
            leading += repeatElement(nil, count: more)
        }
    }
}
