/// One CPU's `per_cpu/cpuN/stats` of an instance: how many events the ring
/// buffer took and how many it lost.
public struct CPUBufferStats: Sendable, Equatable {
    public var cpu: Int
    /// Events still in the buffer.
    public var entries: UInt64
    /// Events overwritten before the recorder read them (overwrite mode).
    public var overrun: UInt64
    /// Events lost because a writer wrapped over its own commit.
    public var commitOverrun: UInt64
    /// Events dropped because the buffer was full (non-overwrite mode).
    public var dropped: UInt64
    /// Events the recorder has read out.
    public var read: UInt64
    /// The file as the kernel wrote it, stored verbatim in trace.dat.
    public var text: String

    public var lost: UInt64 { overrun + commitOverrun + dropped }
    public var recorded: UInt64 { read + entries }

    public init(cpu: Int, text: String) {
        self.cpu = cpu
        self.text = text
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            if let v = UInt64(value) { values[key] = v }
        }
        entries = values["entries"] ?? 0
        overrun = values["overrun"] ?? 0
        commitOverrun = values["commit overrun"] ?? 0
        dropped = values["dropped events"] ?? 0
        read = values["read events"] ?? 0
    }
}

extension CPUBufferStats {
    /// Splits a trace.dat's CPUSTAT text (libtracecmd's `tracecmd_get_cpustats`,
    /// `trace-cmd report --stat`) into per-CPU stats. trace-cmd writes the top
    /// buffer's CPUs first, then for each instance a `Buffer: NAME` line and its
    /// CPUs; `buffer` picks one (`nil`: the top buffer). A block without a
    /// `CPU: N` line takes the next CPU number of its buffer.
    public static func parseCPUStats(_ text: String, buffer: String? = nil) -> [CPUBufferStats] {
        var current: String?
        var blocks: [(buffer: String?, lines: [Substring])] = []
        var lines: [Substring] = []
        func flush() {
            if !lines.isEmpty { blocks.append((current, lines)) }
            lines = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Buffer: ") {
                flush()
                current = String(line.dropFirst("Buffer: ".count))
            } else if line.hasPrefix("CPU: ") || line.hasPrefix("CPU:") {
                flush()
                lines = [line]
            } else if line.isEmpty {
                continue
            } else {
                if line.hasPrefix("entries:"), lines.contains(where: { $0.hasPrefix("entries:") }) { flush() }
                lines.append(line)
            }
        }
        flush()
        var result: [CPUBufferStats] = []
        for block in blocks where block.buffer == buffer {
            var cpu = result.count
            if let first = block.lines.first, first.hasPrefix("CPU:"),
               let n = Int(first.dropFirst(4).drop { $0 == " " }) { cpu = n }
            result.append(CPUBufferStats(cpu: cpu, text: block.lines.joined(separator: "\n") + "\n"))
        }
        return result
    }
}
