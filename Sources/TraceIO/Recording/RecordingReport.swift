/// A snapshot of a running recording, for a status line.
public struct RecordingProgress: Sendable {
    public var elapsed: Double
    /// Events the ring buffers took so far (all CPUs).
    public var events: UInt64
    /// Over the last reporting interval.
    public var eventsPerSecond: Double
    /// Bytes of ring-buffer pages moved to disk so far.
    public var bytesWritten: Int
    /// Events lost so far (overrun, dropped), all CPUs.
    public var lostEvents: UInt64
}

/// What the recorder tells its caller while it runs; the library never prints.
public enum RecorderReport: Sendable {
    /// Preset events this kernel does not have; recording goes on without them.
    case missingEvents([String])
    /// Tracing is on and the command (if any) is about to start.
    case started(instance: String, eventCount: Int, marker: String)
    /// About four times a second.
    case progress(RecordingProgress)
    /// Tracing is off; the trace.dat is being written.
    case writing(path: String)
}

/// Why a recording stopped.
public enum StopReason: Sendable, Equatable {
    case commandExited
    case duration
    case signal(Int32)
}

/// The outcome of a finished recording.
public struct RecordingResult: Sendable {
    public var outputPath: String
    public var stopReason: StopReason
    /// How the command ended, when one was run.
    public var commandStatus: CommandStatus?
    public var elapsed: Double
    public var events: UInt64
    public var lostByCPU: [Int: UInt64]
    public var fileBytes: Int
    public var missingEvents: [String]
    /// The facts stored in the recording marker.
    public var marker: String
}
