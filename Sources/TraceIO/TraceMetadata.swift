/// The kinds of input wbreplay reads, detected from content.
public enum TraceFormat: Hashable, Sendable, CustomStringConvertible {
    /// A trace-cmd trace.dat file of the given file version (6 or 7).
    case traceDat(version: Int)
    /// The tracefs `trace` (or `trace_pipe`) file.
    case ftraceText
    /// The output of `trace-cmd report`.
    case traceCmdReport

    public var description: String {
        switch self {
        case .traceDat(let v): return "trace.dat v\(v)"
        case .ftraceText: return "ftrace text"
        case .traceCmdReport: return "trace-cmd report"
        }
    }
}

/// What a trace says about itself, known before its events are read.
public struct TraceMetadata: Sendable {
    public var format: TraceFormat
    /// The trace clock (`local`, `mono`, `global`, …) when the file records it.
    public var clock: String?
    public var cpuCount: Int?
    /// `uname -r` of the recording kernel, when recorded.
    public var kernelRelease: String?
    /// The buffer instance the events come from (`trace-cmd extract -B NAME`).
    public var instance: String?
    /// Per-CPU counts of events the kernel dropped or overwrote, as recorded
    /// in the file's statistics (trace.dat cpustats, wbreplay record options).
    /// Lost events found while reading arrive as `TraceRecord.lost` too.
    public var lostByCPU: [Int: UInt64]
    /// The text header's `entries-in-buffer/entries-written: X/Y`: when Y > X
    /// the ring buffer overwrote Y - X events (overwrite mode prints no LOST line).
    public var entriesInBuffer: UInt64?
    public var entriesWritten: UInt64?
    /// Key/value facts a wbreplay recording stores (preset, filters, block size,
    /// stable_writes …), empty for other files.
    public var recording: [String: String]

    public init(
        format: TraceFormat, clock: String? = nil, cpuCount: Int? = nil,
        kernelRelease: String? = nil, instance: String? = nil,
        lostByCPU: [Int: UInt64] = [:], entriesInBuffer: UInt64? = nil,
        entriesWritten: UInt64? = nil, recording: [String: String] = [:]
    ) {
        self.format = format
        self.clock = clock
        self.cpuCount = cpuCount
        self.kernelRelease = kernelRelease
        self.instance = instance
        self.lostByCPU = lostByCPU
        self.entriesInBuffer = entriesInBuffer
        self.entriesWritten = entriesWritten
        self.recording = recording
    }
}
