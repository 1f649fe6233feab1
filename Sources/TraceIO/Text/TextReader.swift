import Glibc

/// Reads ftrace text: the tracefs `trace` file and `trace-cmd report`
/// output (with or without `-t`, `-l`, instance prefixes), so that events
/// come out as trace.dat gives them: the same names, field names and typed
/// values (see EventSpec, SyscallFields). Text timestamps are what was
/// printed: microseconds (resolution 1000) or, with `report -t`, nanoseconds.
///
/// The file is memory-mapped and scanned byte by byte; memory does not grow
/// with its size.
public final class TextReader: TraceReader {
    public let path: String
    public let metadata: TraceMetadata
    private let file: MappedFile

    /// Lines of the last `forEach` that were neither events, LOST marks,
    /// comments nor headers (garbled or cut lines), skipped. A last line
    /// without its newline counts here: the file was cut while being written.
    public private(set) var damagedLines = 0
    /// `damagedLines`, under the name every reader reports it by.
    public var damagedEvents: Int { damagedLines }
    /// The 1-based number of the first damaged line, for messages.
    public private(set) var firstDamagedLine: Int?
    /// Event lines whose text did not have their event's known print format
    /// (another kernel's format); they keep their raw text and best-effort fields.
    public private(set) var unmatchedFieldLines = 0
    /// See `TraceReader.fractionRead`: the share of the file's bytes behind
    /// the line being read, refreshed every `progressBytes`.
    public private(set) var fractionRead: Double?
    static let progressBytes = 1 << 20

    /// Opens a text trace. `format` is what `FormatDetection` found in the
    /// file (`.ftraceText` or `.traceCmdReport`); the reader accepts both line
    /// forms either way, and uses it for the metadata and for trace-cmd's
    /// own way of printing unresolvable flags.
    public init(path: String, format: TraceFormat) throws {
        switch format {
        case .ftraceText, .traceCmdReport: break
        case .traceDat: throw TraceError.unrecognisedFormat(path: path)
        }
        self.path = path
        file = try MappedFile(path: path)
        let head = file.withBytes { all in Array(all.prefix(TextHeader.scanLimit)) }
        guard FormatDetection.detect(head: head) != nil else {
            throw TraceError.unrecognisedFormat(path: path)
        }
        metadata = head.withUnsafeBufferPointer { TextHeader.metadata(format: format, head: $0) }
    }

    /// Convenience: detects the format from the file's content.
    public convenience init(path: String) throws {
        let format = try FormatDetection.detect(path: path)
        try self.init(path: path, format: format)
    }

    public func forEach(_ options: ReadOptions, _ body: (TraceRecord) throws -> Void) throws {
        damagedLines = 0
        firstDamagedLine = nil
        var decoder = TextEventDecoder(options: options, libtraceeventQuirks: metadata.format == .traceCmdReport)
        // A LOST line precedes the next event of its CPU: the loss is reported
        // with that event's timestamp, just before it.
        var pendingLost: [LostEvents?] = []
        var lineNumber = 0
        var damaged = 0
        var firstDamaged: Int?
        file.rewind()
        defer {
            damagedLines = damaged
            firstDamagedLine = firstDamaged
            unmatchedFieldLines = decoder.specMismatches
        }
        try file.withBytes { all in
            guard let base = all.baseAddress else { return }
            var start = 0
            var sinceRelease = 0
            var nextProgress = 0
            fractionRead = 0
            defer { fractionRead = 1 }
            while start < all.count {
                lineNumber += 1
                if start >= nextProgress {
                    nextProgress = start + TextReader.progressBytes
                    fractionRead = Double(start) / Double(all.count)
                }
                let newline = memchr(base + start, 0x0A, all.count - start)
                guard let newline else {
                    // Cut while being written: the fields may be incomplete.
                    damaged += 1
                    if firstDamaged == nil { firstDamaged = lineNumber }
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
                    damaged += 1
                    if firstDamaged == nil { firstDamaged = lineNumber }
                case .lost(let cpu, let count):
                    while pendingLost.count <= cpu { pendingLost.append(nil) }
                    if let earlier = pendingLost[cpu] {
                        // Two LOST lines with no event between: one gap.
                        let total = earlier.count.flatMap { a in count.map { a + $0 } }
                        pendingLost[cpu] = LostEvents(cpu: cpu, count: total, timestamp: nil)
                    } else {
                        pendingLost[cpu] = LostEvents(cpu: cpu, count: count, timestamp: nil)
                    }
                case .event(let scanned):
                    guard let record = decoder.decode(line, scanned) else {
                        damaged += 1
                        if firstDamaged == nil { firstDamaged = lineNumber }
                        continue
                    }
                    if scanned.cpu < pendingLost.count, var lost = pendingLost[scanned.cpu] {
                        lost.timestamp = scanned.timestamp
                        pendingLost[scanned.cpu] = nil
                        try body(.lost(lost))
                    }
                    try body(record)
                }
                sinceRelease += line.count
                if sinceRelease > 8 << 20 {
                    file.release(upTo: start)
                    sinceRelease = 0
                }
            }
        }
        for case let lost? in pendingLost { try body(.lost(lost)) }
    }
}
