import Glibc

/// Tells the format of a trace from its first bytes, never from its name.
public enum FormatDetection {
    /// trace.dat files start with these bytes, then the file version as
    /// ASCII digits and a NUL (trace-cmd.dat.v6(5), trace-cmd.dat.v7(5)).
    static let datMagic: [UInt8] = [0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6E, 0x67]

    /// Detects the format of the file at `path`; throws the one-line error
    /// the CLI prints for missing, empty, unreadable or foreign files.
    public static func detect(path: String) throws -> TraceFormat {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { throw TraceError.notFound(path: path) }
            throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw TraceError.isDirectory(path: path) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 64 * 1024)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else {
            throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if n == 0 { throw TraceError.empty(path: path) }
        head.removeSubrange(n...)
        if let format = detect(head: head) { return format }
        throw TraceError.unrecognisedFormat(path: path)
    }

    /// Detects the format from the first bytes of a file.
    public static func detect(head: [UInt8]) -> TraceFormat? {
        if head.starts(with: datMagic) {
            var version = 0
            var i = datMagic.count
            while i < head.count, head[i] >= 0x30, head[i] <= 0x39, version < 1000 {
                version = version * 10 + Int(head[i] - 0x30)
                i += 1
            }
            return version > 0 ? .traceDat(version: version) : nil
        }
        // Text: look at whole lines only, and never at binary data.
        if head.contains(0) { return nil }
        var sawReportHeader = false
        var reportLines = 0
        var ftraceLines = 0
        for line in TextLines(head).prefix(200) {
            if line.starts(with: Array("# tracer:".utf8)) { return .ftraceText }
            if line.starts(with: Array("cpus=".utf8)) || line.starts(with: Array("version = ".utf8)) {
                sawReportHeader = true
                continue
            }
            switch TextLines.classify(line) {
            case .ftrace: ftraceLines += 1
            case .report: reportLines += 1
            case .other: break
            }
        }
        if ftraceLines > 0, ftraceLines >= reportLines { return .ftraceText }
        if reportLines > 0 || (sawReportHeader && ftraceLines == 0 && reportLines == 0 && head.count < 4096) {
            return sawReportHeader || reportLines > 0 ? .traceCmdReport : nil
        }
        return nil
    }
}

/// Splits a byte buffer into lines, for format detection.
struct TextLines: Sequence {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func makeIterator() -> AnyIterator<ArraySlice<UInt8>> {
        var start = 0
        let bytes = self.bytes
        return AnyIterator {
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != 0x0A { end += 1 }
                // A last line without its newline may be cut: skip it.
                if end == bytes.count, start > 0 { return nil }
                let line = bytes[start..<end]
                start = end + 1
                return line
            }
            return nil
        }
    }

    enum LineKind { case ftrace, report, other }

    /// An event line is `TASK-PID [CPU] ... SECONDS.FRACTION: NAME: ...`.
    /// The tracefs file has an irq-flags column between `[CPU]` and the
    /// timestamp (`d.s2.`); trace-cmd report prints none by default.
    static func classify(_ line: ArraySlice<UInt8>) -> LineKind {
        guard let open = line.firstIndex(of: UInt8(ascii: "[")),
              let close = line[open...].firstIndex(of: UInt8(ascii: "]")),
              close > open + 1,
              line[(open + 1)..<close].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else {
            // `trace-cmd report -l` glues the CPU to the latency flags: `comm-pid  1d..2.  ts: …`.
            let isEvent = Array(line).withUnsafeBufferPointer { bytes in
                if case .event = TextLineScanner.scan(bytes) { return true }
                return false
            }
            return isEvent ? .report : .other
        }
        let tail = line[(close + 1)...].split(separator: UInt8(ascii: " "), maxSplits: 2)
        guard let first = tail.first else { return .other }
        if isTimestamp(first) { return .report }
        if tail.count >= 2, isTimestamp(tail[tail.startIndex + 1]) { return .ftrace }
        return .other
    }

    static func isTimestamp(_ token: ArraySlice<UInt8>) -> Bool {
        guard token.last == UInt8(ascii: ":"), token.count > 3 else { return false }
        var sawDot = false
        for b in token.dropLast() {
            if b == UInt8(ascii: ".") {
                if sawDot { return false }
                sawDot = true
            } else if b < 0x30 || b > 0x39 { return false }
        }
        return sawDot
    }
}
