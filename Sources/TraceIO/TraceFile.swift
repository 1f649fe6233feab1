/// The one entry point for reading a trace, whatever its format: detects the
/// format from the content and opens the matching reader.
public enum TraceFile {
    /// Opens the trace at `path`. `instance` picks a buffer instance of a
    /// trace.dat (ignored for text, which holds one buffer).
    public static func open(path: String, instance: String? = nil) throws -> any TraceReader {
        switch try FormatDetection.detect(path: path) {
        case .traceDat:
            return try DatReader(path: path, instance: instance)
        case .ftraceText:
            return try TextReader(path: path, format: .ftraceText)
        case .traceCmdReport:
            return try TextReader(path: path, format: .traceCmdReport)
        }
    }
}
