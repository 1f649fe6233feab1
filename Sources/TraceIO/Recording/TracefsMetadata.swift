import Glibc

/// What trace.dat needs from tracefs and procfs besides the pages: event
/// formats, the page and event header layouts, kernel symbols and printk
/// formats. All of it is read-only access; nothing at the top level changes.
struct TracefsMetadata {
    var headerPage: [UInt8]
    var headerEvent: [UInt8]
    var ftraceFormats: [[UInt8]]
    var eventSystems: [(name: String, formats: [[UInt8]])]
    var kallsyms: [UInt8]
    var printkFormats: [UInt8]

    /// Every event system's formats, not only the recorded ones, as trace-cmd
    /// does: a reader of the file may meet any event id, and KernelShark lists them.
    static func collect(tracingDir: String) throws -> TracefsMetadata {
        let events = tracingDir + "/events"
        guard let headerPage = readFileBytes(events + "/header_page"),
              let headerEvent = readFileBytes(events + "/header_event") else {
            throw RecordError.tracefs(operation: "read events/header_page", reason: String(cString: strerror(errno)))
        }
        var ftrace: [[UInt8]] = []
        var systems: [(name: String, formats: [[UInt8]])] = []
        for system in listSubdirectories(events) {
            var formats: [[UInt8]] = []
            for event in listSubdirectories(events + "/" + system) {
                if let f = readFileBytes(events + "/" + system + "/" + event + "/format") { formats.append(f) }
            }
            if system == "ftrace" { ftrace = formats } else if !formats.isEmpty { systems.append((system, formats)) }
        }
        return TracefsMetadata(
            headerPage: headerPage, headerEvent: headerEvent, ftraceFormats: ftrace, eventSystems: systems,
            kallsyms: readFileBytes("/proc/kallsyms") ?? [],
            printkFormats: readFileBytes(tracingDir + "/printk_formats") ?? [])
    }
}

/// The pid → comm map for the file. The kernel keeps only the last few
/// hundred in `saved_cmdlines`; the recorder merges it in while it runs so
/// that short-lived tasks keep their names.
struct CommandLines {
    private(set) var names: [Int32: String] = [:]

    mutating func merge(savedCmdlines text: String) {
        for line in text.split(separator: "\n") {
            guard let space = line.firstIndex(of: " "), let pid = Int32(line[..<space]), pid > 0 else { continue }
            let comm = String(line[line.index(after: space)...])
            if comm != "<...>" { names[pid] = comm }
        }
    }

    mutating func add(pid: Int32, comm: String) { names[pid] = comm }

    var fileContents: [UInt8] {
        Array(names.keys.sorted().map { "\($0) \(names[$0]!)\n" }.joined().utf8)
    }
}

func readFileBytes(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0, errno == EINTR { continue }
        if n < 0 { return out.isEmpty ? nil : out }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}
