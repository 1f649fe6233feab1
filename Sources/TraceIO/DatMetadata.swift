import CTrace

/// What a trace.dat says about itself: the header's version, the options
/// (trace clock, uname, cpustats) and the wbreplay recording marker.
enum DatMetadata {
    /// The text a wbreplay recording writes to trace_marker as the first event
    /// of its buffer, followed by space-separated `key=value` pairs.
    static let recordingPrefix = "wbreplay-recording: "

    /// How many of the first events (in timestamp order) are searched for the
    /// recording marker: another CPU may log an event just before it.
    static let markerSearchDepth = 64

    static func read(_ handle: DatHandle) -> TraceMetadata {
        var metadata = TraceMetadata(format: .traceDat(version: handle.fileVersion))
        metadata.cpuCount = handle.cpuCount
        metadata.instance = handle.instanceName
        if let clock = tracecmd_get_trace_clock(handle.data) ?? tracecmd_get_trace_clock(handle.top) {
            let text = String(cString: clock)
            if !text.isEmpty { metadata.clock = text }
        }
        if let uname = tracecmd_get_uname(handle.top) {
            metadata.kernelRelease = kernelRelease(fromUname: String(cString: uname))
        }
        if let stats = tracecmd_get_cpustats(handle.top) {
            metadata.lostByCPU = lostByCPU(cpustats: String(cString: stats), buffer: handle.instanceName ?? "")
        }
        metadata.recording = recording(handle)
        return metadata
    }

    /// The release from trace-cmd's uname option, written as
    /// "sysname nodename release machine" (`Linux vm 6.18.44-fc-v669 x86_64`).
    static func kernelRelease(fromUname uname: String) -> String? {
        let parts = uname.split(separator: " ", omittingEmptySubsequences: true)
        return parts.count >= 3 ? String(parts[2]) : nil
    }

    /// Per-CPU events lost in `buffer` ("" for the top level) according to the
    /// ring buffer's statistics at extraction: overwritten (`overrun`, `commit
    /// overrun`) plus dropped (`dropped events`). Only CPUs that lost events
    /// appear. The blob lists the top level first, then each instance after a
    /// `Buffer: NAME` line.
    static func lostByCPU(cpustats: String, buffer: String) -> [Int: UInt64] {
        var result: [Int: UInt64] = [:]
        var current = ""
        var cpu: Int?
        for rawLine in cpustats.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = trimBlanks(rawLine)
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[line.startIndex..<colon]
            let value = trimBlanks(line[line.index(after: colon)...])
            switch key {
            case "Buffer":
                current = String(value)
                cpu = nil
            case "CPU":
                cpu = Int(value)
            case "overrun", "commit overrun", "dropped events":
                guard current == buffer, let cpu, let count = UInt64(value), count > 0 else { continue }
                result[cpu, default: 0] += count
            default:
                continue
            }
        }
        return result
    }

    /// The key/values of the recording marker among the first events.
    static func recording(_ handle: DatHandle) -> [String: String] {
        var decoder = DatRecordDecoder(tep: handle.tep, selection: .named(["buf"]), pageSize: handle.pageSize)
        var merge = DatCPUMerge(handle: handle)
        defer { merge.release() }
        var seen = 0
        while seen < markerSearchDepth, let (record, cpu) = merge.next() {
            seen += 1
            let event = decoder.decode(record, cpu: cpu)
            tracecmd_free_record(record)
            guard let event, event.name == "print", let text = event.fields.string("buf"),
                  let pairs = parseMarker(text) else { continue }
            return pairs
        }
        return [:]
    }

    /// `wbreplay-recording: k1=v1 k2=v2` → ["k1": "v1", "k2": "v2"]; nil when
    /// the text is not a recording marker.
    static func parseMarker(_ text: String) -> [String: String]? {
        guard text.hasPrefix(recordingPrefix) else { return nil }
        var pairs: [String: String] = [:]
        let body = text.dropFirst(recordingPrefix.count)
        for token in body.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
            guard let eq = token.firstIndex(of: "="), eq != token.startIndex else { continue }
            pairs[String(token[token.startIndex..<eq])] = String(token[token.index(after: eq)...])
        }
        return pairs
    }

    /// The text without leading and trailing blanks (no Foundation needed).
    private static func trimBlanks(_ text: Substring) -> Substring {
        var s = text
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return s
    }
}
