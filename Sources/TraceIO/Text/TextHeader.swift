/// What a text trace says about itself before (and at the start of) its
/// events: the tracefs header block, trace-cmd report's `cpus=` line and
/// instance prefix, and a wbreplay recording marker.
enum TextHeader {
    /// How far into the file the header and the recording marker are looked for.
    static let scanLimit = 64 * 1024

    static func metadata(format: TraceFormat, head: UnsafeBufferPointer<UInt8>) -> TraceMetadata {
        var metadata = TraceMetadata(format: format)
        var sawEvent = false
        var lineStart = 0
        while lineStart < head.count {
            var lineEnd = lineStart
            while lineEnd < head.count, head[lineEnd] != 0x0A { lineEnd += 1 }
            // A line cut by the scan limit is not looked at.
            if lineEnd == head.count, lineStart > 0 { break }
            let line = UnsafeBufferPointer(rebasing: head[lineStart..<lineEnd])
            lineStart = lineEnd + 1
            if line.matches(entriesPrefix, at: 0) {
                parseEntries(line, &metadata)
            } else if line.matches(TextLineScanner.cpusPrefix, at: 0) {
                metadata.cpuCount = NumberScanner.scan(line, TextLineScanner.cpusPrefix.count, radix: 10)
                    .map { Int(clamping: $0.0) }
            } else if case .event(let event) = TextLineScanner.scan(line) {
                if !sawEvent, let instance = event.instance {
                    metadata.instance = String(decoding: UnsafeBufferPointer(rebasing: line[instance]), as: UTF8.self)
                }
                sawEvent = true
                if metadata.recording.isEmpty, let marker = recordingMarker(line, from: event.eventStart) {
                    metadata.recording = marker
                }
            }
        }
        applyRecording(&metadata)
        return metadata
    }

    /// `# entries-in-buffer/entries-written: 39007/39007   #P:2`
    static func parseEntries(_ line: UnsafeBufferPointer<UInt8>, _ metadata: inout TraceMetadata) {
        guard let (inBuffer, slash) = NumberScanner.scan(line, entriesPrefix.count, radix: 10),
              slash < line.count, line[slash] == UInt8(ascii: "/"),
              let (written, after) = NumberScanner.scan(line, slash + 1, radix: 10)
        else { return }
        metadata.entriesInBuffer = inBuffer
        metadata.entriesWritten = written
        var i = after
        while i + 3 <= line.count {
            if line.matches(cpuCountMark, at: i) {
                metadata.cpuCount = NumberScanner.scan(line, i + cpuCountMark.count, radix: 10).map { Int(clamping: $0.0) }
                return
            }
            i += 1
        }
    }

    /// A wbreplay recording writes, as its first event, a trace_marker line
    /// `wbreplay-recording: key=value key=value …`; the tracefs file shows it
    /// as `tracing_mark_write: wbreplay-recording: …`, trace-cmd report as
    /// `print: tracing_mark_write: wbreplay-recording: …`.
    static func recordingMarker(_ line: UnsafeBufferPointer<UInt8>, from start: Int) -> [String: String]? {
        var i = start
        while i + markerWord.count <= line.count {
            if line[i] == markerWord[0], line.matches(markerWord, at: i) { break }
            i += 1
        }
        guard i + markerWord.count <= line.count else { return nil }
        // Only inside a print event.
        let prefix = String(decoding: UnsafeBufferPointer(rebasing: line[start..<i]), as: UTF8.self)
        guard prefix.hasPrefix("tracing_mark_write:") || prefix.hasPrefix("print:") else { return nil }
        let text = String(decoding: UnsafeBufferPointer(rebasing: line[(i + markerWord.count)...]), as: UTF8.self)
        var facts: [String: String] = [:]
        for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let eq = token.firstIndex(of: "="), eq != token.startIndex else { continue }
            facts[String(token[..<eq])] = String(token[token.index(after: eq)...])
        }
        return facts
    }

    /// Facts of the recording that have a place of their own in the metadata.
    static func applyRecording(_ metadata: inout TraceMetadata) {
        let r = metadata.recording
        if let clock = r["clock"] { metadata.clock = clock }
        if let release = r["kernel"] ?? r["kernel_release"] ?? r["release"] { metadata.kernelRelease = release }
        if metadata.cpuCount == nil, let cpus = r["cpus"].flatMap({ Int($0) }) { metadata.cpuCount = cpus }
        if metadata.instance == nil, let instance = r["instance"] { metadata.instance = instance }
    }

    static let entriesPrefix = Array("# entries-in-buffer/entries-written: ".utf8)
    static let cpuCountMark = Array("#P:".utf8)
    static let markerWord = Array("wbreplay-recording:".utf8)
}
