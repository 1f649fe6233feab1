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
    let file: MappedFile

    /// Lines of the last `forEach` that were neither events, LOST marks,
    /// comments nor headers (garbled or cut lines), skipped. A last line
    /// without its newline counts here: the file was cut while being written.
    public internal(set) var damagedLines = 0
    /// `damagedLines`, under the name every reader reports it by.
    public var damagedEvents: Int { damagedLines }
    /// The 1-based number of the first damaged line, for messages.
    public internal(set) var firstDamagedLine: Int?
    /// Event lines whose text did not have their event's known print format
    /// (another kernel's format); they keep their raw text and best-effort fields.
    public internal(set) var unmatchedFieldLines = 0
    /// See `TraceReader.fractionRead`: the share of the file's bytes behind
    /// the line being read, refreshed every `progressBytes` of `forEach`.
    public private(set) var fractionRead: Double?
    static let progressBytes = 1 << 20
    /// The number of parts `forEachPart` cuts the file into; nil: by its
    /// size and the cores (`TextPartPlan`). Tests set it.
    var partCount: Int?

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
        var decoder = TextEventDecoder(options: options, libtraceeventQuirks: metadata.format == .traceCmdReport)
        var run = TextLineRun(holdsLeading: false)
        defer {
            damagedLines = run.damaged
            firstDamagedLine = run.firstDamaged
            unmatchedFieldLines = decoder.specMismatches
        }
        fractionRead = 0
        defer { fractionRead = 1 }
        try file.withBytes { all in
            let total = Double(all.count)
            try run.scan(all, range: 0..<all.count, decoder: &decoder, file: file,
                         progress: { self.fractionRead = Double($0) / total }, body)
        }
        for case let lost? in run.pending { try body(.lost(lost)) }
    }
}
