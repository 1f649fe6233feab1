import TraceIO

/// Lines in the exact layout of the tracefs `trace` file (kernel 6.18,
/// kernel/trace/trace_output.c `trace_print_context` and the events' print
/// formats): `%16s-%-7d [%03d] %5s %5llu.%06lu: name: fields`.
struct TraceLines {
    /// Who an event line is printed for.
    struct Context {
        var comm: String
        var pid: Int32
        var cpu: Int
        /// irqs-off / need-resched / hardirq-softirq / preempt / migrate columns.
        var flags: String = "....."
    }

    private(set) var lines: [String] = []
    /// Microseconds since boot of the next line.
    var clock: UInt64

    init(startMicroseconds: UInt64) { clock = startMicroseconds }

    /// One event line; `raw` lines are printed whole after the timestamp
    /// (syscall events: `sys_fsync(fd: 3)`, `sys_fsync -> 0x0`).
    mutating func add(_ c: Context, _ event: String, _ fields: String, raw: Bool = false) {
        var comm = c.comm
        if comm.count > 16 { comm = String(comm.prefix(16)) }
        let pid = String(c.pid)
        let cpu = String(c.cpu)
        let secs = String(clock / 1_000_000)
        let usecs = String(clock % 1_000_000)
        var line = String(repeating: " ", count: max(0, 16 - comm.count)) + comm + "-" + pid
        line += String(repeating: " ", count: max(0, 7 - pid.count))
        line += " [" + String(repeating: "0", count: max(0, 3 - cpu.count)) + cpu + "] " + c.flags + " "
        line += String(repeating: " ", count: max(0, 5 - secs.count)) + secs + "."
        line += String(repeating: "0", count: max(0, 6 - usecs.count)) + usecs + ": " + event + (raw ? "" : ": " + fields)
        lines.append(line)
        clock += 1
    }

    /// Moves the clock on to the next step (steps are tens of microseconds apart).
    mutating func nextStep() { clock += 37 }

    /// The header tracefs prints above the events (`# tracer: nop` …).
    static func header(entries: Int, cpus: Int) -> [String] {
        [
            "# tracer: nop",
            "#",
            "# entries-in-buffer/entries-written: \(entries)/\(entries)   #P:\(cpus)",
            "#",
            "#                                _-----=> irqs-off/BH-disabled",
            "#                               / _----=> need-resched",
            "#                              | / _---=> hardirq/softirq",
            "#                              || / _--=> preempt-depth",
            "#                              ||| / _-=> migrate-disable",
            "#                              |||| /     delay",
            "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION",
            "#              | |         |   |||||     |         |",
        ]
    }
}

/// Field text shared by the ext4, filemap, writeback and block formats.
enum FieldText {
    /// ext4 / jbd2: `dev 7,0 ino 12` (decimal major,minor).
    static func ext4(_ dev: DeviceNumber, _ ino: UInt64) -> String { "dev \(dev.major),\(dev.minor) ino \(ino)" }
    /// filemap: `dev 7:0 ino c` (hex inode number).
    static func filemap(_ dev: DeviceNumber, _ ino: UInt64) -> String { "dev \(dev.major):\(dev.minor) ino \(hex(ino))" }
    /// block: `7,0`.
    static func block(_ dev: DeviceNumber) -> String { "\(dev.major),\(dev.minor)" }
    /// writeback: `bdi 7:0:`.
    static func bdi(_ dev: DeviceNumber) -> String { "bdi \(dev.major):\(dev.minor):" }

    static func hex(_ v: UInt64) -> String { String(v, radix: 16) }

    /// A hashed kernel pointer as `%p` prints it: 16 hex digits.
    static func pointer(_ v: UInt64) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 16 - h.count)) + h
    }
}
