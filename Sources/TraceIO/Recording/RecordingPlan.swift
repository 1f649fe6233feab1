/// One `-e SYSTEM[:EVENT]` selection: a whole tracefs event system, or one event of it.
public struct EventSelector: Hashable, Sendable, CustomStringConvertible {
    public var system: String
    /// `nil` selects every event of `system`.
    public var event: String?

    public init(system: String, event: String? = nil) {
        self.system = system
        self.event = event
    }

    /// Parses `SYSTEM` or `SYSTEM:EVENT` (`SYSTEM/EVENT`, the tracefs path form, too).
    /// Names are tracefs directory names: letters, digits and `_` only, so a
    /// selector can never walk out of the events directory.
    public init?(_ text: String) {
        let parts = text.split(separator: text.contains(":") ? ":" : "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        func valid(_ s: Substring) -> Bool {
            !s.isEmpty && s.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) }
        }
        guard valid(parts[0]) else { return nil }
        if parts.count == 2 {
            guard valid(parts[1]) else { return nil }
            self.init(system: String(parts[0]), event: String(parts[1]))
        } else {
            self.init(system: String(parts[0]))
        }
    }

    public var description: String { event.map { "\(system):\($0)" } ?? system }
}

/// The event sets `wbreplay record --preset` offers.
public enum RecordingPreset: String, CaseIterable, Sendable {
    /// ext4 and the syscalls that start integrity writeback: enough to see
    /// which io_ends a sync waited for, at the lowest event rate.
    case minimal
    /// Everything the writeback model consumes (the default).
    case writeback
    /// `writeback` plus scheduling and iomap events, for reading a trace by hand.
    case full

    /// The syscalls the model interprets (DOMAIN.md §2): each is traced on entry and exit.
    static let modelSyscalls = [
        "fsync", "fdatasync", "ftruncate", "truncate", "fallocate", "ioctl", "msync",
        "sync_file_range", "renameat2", "unlinkat",
    ]

    static let blockEvents = [
        "block_bio_queue", "block_bio_complete", "block_bio_backmerge", "block_bio_frontmerge",
        "block_rq_insert", "block_rq_issue", "block_rq_complete", "block_rq_requeue",
    ]

    static let workqueueEvents = [
        "workqueue_queue_work", "workqueue_activate_work",
        "workqueue_execute_start", "workqueue_execute_end",
    ]

    public var events: [EventSelector] {
        func syscalls(_ names: [String]) -> [EventSelector] {
            names.flatMap { name in
                ["sys_enter_", "sys_exit_"].map { EventSelector(system: "syscalls", event: $0 + name) }
            }
        }
        switch self {
        case .minimal:
            return [EventSelector(system: "ext4")]
                + syscalls(["fsync", "fdatasync", "sync_file_range", "msync"])
        case .writeback:
            return ["ext4", "writeback", "jbd2", "filemap"].map { EventSelector(system: $0) }
                + Self.blockEvents.map { EventSelector(system: "block", event: $0) }
                + Self.workqueueEvents.map { EventSelector(system: "workqueue", event: $0) }
                + syscalls(Self.modelSyscalls)
        case .full:
            return RecordingPreset.writeback.events
                + [EventSelector(system: "iomap"),
                   EventSelector(system: "sched", event: "sched_wakeup"),
                   EventSelector(system: "sched", event: "sched_wakeup_new"),
                   EventSelector(system: "sched", event: "sched_switch"),
                   EventSelector(system: "sched", event: "sched_process_exit")]
                + syscalls(["pwrite64", "write", "io_submit", "io_uring_enter"])
        }
    }
}

/// Everything `wbreplay record` was asked to do, before any tracefs access.
public struct RecordingPlan: Sendable {
    /// The default trace clock, `mono`.
    ///
    /// The analysis merges the per-CPU streams into one order and draws
    /// happens-before edges across CPUs (an io_end queued on one CPU, its
    /// worker running on another), so timestamps must be comparable across
    /// CPUs. `local` (the kernel's default) is a per-CPU counter that may drift
    /// between CPUs. `global` and `mono` are both ordered across CPUs; `mono`
    /// (`ktime_get_mono_fast_ns`, CLOCK_MONOTONIC) is lock-free, so it costs less per
    /// event than `global`'s shared counter, and its values equal what
    /// `clock_gettime(CLOCK_MONOTONIC)` returns in user space, so a workload's own
    /// timestamps line up with the trace.
    public static let defaultClock = "mono"

    /// Per-CPU ring buffer size. The recorder drains the buffers while it runs,
    /// so this only has to absorb a burst between two drains (100 ms).
    public static let defaultBufferKB = 8192

    public var preset: RecordingPreset
    /// Events added with `-e`, which must exist: an unknown one is an error.
    public var extraEvents: [EventSelector]
    public var device: DeviceSelection?
    public var bufferKB: Int
    public var clock: String
    /// Stop after this many seconds, even if the command still runs.
    public var duration: Double?
    /// The command to run and trace; empty: record until stopped or `duration`.
    public var command: [String]
    public var outputPath: String

    public init(
        preset: RecordingPreset = .writeback, extraEvents: [EventSelector] = [],
        device: DeviceSelection? = nil, bufferKB: Int = RecordingPlan.defaultBufferKB,
        clock: String = RecordingPlan.defaultClock, duration: Double? = nil,
        command: [String] = [], outputPath: String = "trace.dat"
    ) {
        self.preset = preset
        self.extraEvents = extraEvents
        self.device = device
        self.bufferKB = bufferKB
        self.clock = clock
        self.duration = duration
        self.command = command
        self.outputPath = outputPath
    }
}

/// How the user named the file system to filter on.
public enum DeviceSelection: Hashable, Sendable {
    case mount(path: String)
    case device(DeviceNumber)
}
