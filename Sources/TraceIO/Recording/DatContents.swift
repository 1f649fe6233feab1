/// Everything a trace.dat holds, gathered from tracefs and the streamer
/// before `DatWriter` lays it out.
struct DatContents {
    /// The ring buffer's page (sub-buffer) size.
    var pageSize: Int
    /// `events/header_page` and `events/header_event`: how the reader decodes pages.
    var headerPage: [UInt8]
    var headerEvent: [UInt8]
    /// `events/ftrace/*/format` (print, bprint, function …).
    var ftraceFormats: [[UInt8]]
    /// Every other event system with the format files of its events.
    var eventSystems: [(name: String, formats: [[UInt8]])]
    /// `/proc/kallsyms`: resolves function pointers such as a work item's function.
    var kallsyms: [UInt8]
    /// `printk_formats`: format strings of bprint events.
    var printkFormats: [UInt8]
    /// `pid comm` lines.
    var cmdlines: [UInt8]
    /// The instance's `trace_clock` file content (`[mono] …`).
    var traceClockFile: String
    /// The selected clock, bare (`mono`).
    var clock: String
    var uname: String
    var version: String
    var cpuCount: Int
    /// The buffer's name in the file (`trace-cmd report` prefixes lines with it).
    var bufferName: String
    /// `per_cpu/cpuN/stats` of the instance after recording.
    var cpuStats: [(cpu: Int, text: String)]
    /// Each CPU's raw pages.
    var cpuFiles: [RingBufferStreamer.CPUFile]
    var traceID: UInt64
}
