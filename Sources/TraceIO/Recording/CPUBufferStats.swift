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
