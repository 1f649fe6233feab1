import Foundation
import Synchronization

/// Records a live trace into a trace.dat: sets up a private tracefs instance,
/// streams its per-CPU buffers to disk while the command runs, and writes the
/// file. Every way out of `run` (command exit, duration, `requestStop`, an
/// error) turns tracing off, drains the buffers, deletes the instance and its
/// temporary files; the top-level tracefs files are only ever read.
public final class Recorder: @unchecked Sendable {
    /// The name of the buffer in the trace.dat (`trace-cmd report` prefixes lines with it).
    public static let bufferName = "wbreplay"
    static let reportInterval = 0.25

    public let plan: RecordingPlan
    /// The tool version stored in the file.
    public let toolVersion: String
    private let wakeup = DispatchSemaphore(value: 0)
    private let stopSignal = Atomic<Int32>(0)
    private let childExited = Atomic<Bool>(false)
    private let child = Mutex<ChildProcess?>(nil)

    public init(plan: RecordingPlan, toolVersion: String) {
        self.plan = plan
        self.toolVersion = toolVersion
    }

    /// Asks a running recording to stop (from a signal handler's queue). The
    /// signal is passed on to the command, which is then waited for.
    public func requestStop(signal: Int32) {
        stopSignal.store(signal, ordering: .releasing)
        child.withLock { $0?.signal(signal) }
        wakeup.signal()
    }

    public func run(report: (RecorderReport) -> Void) throws -> RecordingResult {
        guard plan.bufferKB >= 4 else { throw RecordError.badBufferSize(plan.bufferKB) }
        guard Privileges.canTrace else { throw RecordError.notRoot }
        let device = try plan.device.map(RecordedDevice.resolve)
        let outputDir = (plan.outputPath as NSString).deletingLastPathComponent
        guard access(outputDir.isEmpty ? "." : outputDir, W_OK) == 0 else {
            throw RecordError.output(path: plan.outputPath, reason: "directory not writable")
        }

        let tracefs = try TracefsInstance.locateTracefs()
        defer { if tracefs.mountedByUs { umount(tracefs.dir) } }
        TracefsInstance.removeAbandoned(prefix: "wbreplay-", tracingDir: tracefs.dir)
        let instance = try TracefsInstance(name: "wbreplay-\(getpid())", tracingDir: tracefs.dir)
        defer { instance.remove() }

        try configure(instance)
        let resolution = try EventResolution(preset: plan.preset.events, extra: plan.extraEvents) {
            instance.subdirectories("events/" + $0)
        }
        if !resolution.missing.isEmpty { report(.missingEvents(resolution.missing)) }
        try applyFilters(instance, events: resolution.events, device: device)

        let prefix = (outputDir.isEmpty ? "." : outputDir) + "/." + (plan.outputPath as NSString).lastPathComponent
            + ".wbreplay-\(getpid())"
        let streamer = try RingBufferStreamer(
            instance: instance, cpus: ProcessInfo.processInfo.processorCount, filePrefix: prefix)
        defer { streamer.closeAll(removeFiles: true) }

        // The marker goes in before any event is enabled, so it is the first
        // event of the buffer (and, with a cross-CPU clock, the earliest).
        let marker = markerText(device: device)
        streamer.start()
        try instance.write("tracing_on", "1")
        try instance.write("trace_marker", marker)
        for e in resolution.events { try instance.write("events/\(e.system)/\(e.event)/enable", "1") }
        report(.started(instance: instance.name, eventCount: resolution.events.count, marker: marker))

        var cmdlines = CommandLines()
        let start = Date()
        try startCommand()
        let reason = monitor(instance: instance, streamer: streamer, start: start, cmdlines: &cmdlines, report: report)

        // Stop: nothing new enters the buffers, then drain them.
        _ = try? instance.write("tracing_on", "0")
        _ = try? instance.write("events/enable", "0")
        let status = finishCommand()
        let elapsed = Date().timeIntervalSince(start)
        report(.writing(path: plan.outputPath))
        let files = try streamer.finish()
        let stats = streamer.cpus.map { cpu in
            CPUBufferStats(cpu: cpu, text: instance.read("per_cpu/cpu\(cpu)/stats") ?? "")
        }
        if let saved = readSmallFile(tracefs.dir + "/saved_cmdlines") { cmdlines.merge(savedCmdlines: saved) }

        let metadata = try TracefsMetadata.collect(tracingDir: tracefs.dir)
        let contents = DatContents(
            pageSize: streamer.pageSize, headerPage: metadata.headerPage, headerEvent: metadata.headerEvent,
            ftraceFormats: metadata.ftraceFormats, eventSystems: metadata.eventSystems,
            kallsyms: metadata.kallsyms, printkFormats: metadata.printkFormats,
            cmdlines: cmdlines.fileContents, traceClockFile: instance.read("trace_clock") ?? plan.clock,
            clock: plan.clock, uname: Self.uname(), version: "wbreplay \(toolVersion)",
            cpuCount: ProcessInfo.processInfo.processorCount, bufferName: Self.bufferName,
            cpuStats: stats.map { ($0.cpu, $0.text.hasPrefix("CPU:") ? $0.text : "CPU: \($0.cpu)\n" + $0.text) }, cpuFiles: files, traceID: UInt64.random(in: 1...UInt64.max))
        try DatWriter(contents: contents).write(to: plan.outputPath)

        var st = stat()
        let size = stat(plan.outputPath, &st) == 0 ? Int(st.st_size) : 0
        return RecordingResult(
            outputPath: plan.outputPath, stopReason: reason, commandStatus: status, elapsed: elapsed,
            events: stats.reduce(0) { $0 + $1.recorded },
            lostByCPU: Dictionary(uniqueKeysWithValues: stats.map { ($0.cpu, $0.lost) }),
            fileBytes: size, missingEvents: resolution.missing, marker: marker)
    }

    // The recorder's own threads are traced like any other task. The
    // kernel's pid filter (`set_event_notrace_pid`) cannot leave them out
    // alone: `trace_event_ignore_this_pid` reads a per-CPU flag set at
    // `sched_switch` for the task switched to [6.18
    // kernel/trace/trace_events.c], so every interrupt and softirq that runs
    // while a recorder thread is on the CPU is dropped too — block
    // completions and the `workqueue_queue_work` of `ext4_end_bio` among
    // them — and counted nowhere (no overrun, no lost-events flag). Their
    // own events are few: their writes go to the output's file system,
    // which the device filter leaves out unless it is the traced one.

    /// Clock and buffer size, with tracing off in the instance.
    private func configure(_ instance: TracefsInstance) throws {
        try instance.write("tracing_on", "0")
        let clocks = instance.availableClocks()
        guard clocks.contains(plan.clock) else { throw RecordError.badClock(plan.clock, available: clocks) }
        try instance.write("trace_clock", plan.clock)
        try instance.write("buffer_size_kb", String(plan.bufferKB))
    }

    private func applyFilters(_ instance: TracefsInstance, events: [(system: String, event: String)],
                              device: RecordedDevice?) throws {
        guard let device else { return }
        let filter = DeviceFilter(device: device)
        for e in events {
            let path = "events/\(e.system)/\(e.event)"
            guard let format = instance.read(path + "/format") else { continue }
            if let expr = filter.expression(system: e.system, fields: EventFormatFields(formatText: format)) {
                try instance.write(path + "/filter", expr)
            }
        }
    }

    func markerText(device: RecordedDevice?) -> String {
        var facts: [(key: String, value: String)] = [("preset", plan.preset.rawValue)]
        if !plan.extraEvents.isEmpty {
            facts.append(("extra", plan.extraEvents.map(\.description).joined(separator: ",")))
        }
        if let device {
            facts.append(("dev", device.fsDevice.description))
            if device.diskDevice != device.fsDevice { facts.append(("disk", device.diskDevice.description)) }
            if let bs = device.blockSize { facts.append(("block_size", String(bs))) }
            if let sw = device.stableWrites { facts.append(("stable_writes", sw ? "1" : "0")) }
        }
        facts.append(("clock", plan.clock))
        // The release, so that a text rendering of the recording (which
        // loses trace.dat's uname option) still picks the kernel's profile.
        if let release = DatMetadata.kernelRelease(fromUname: Self.uname()) { facts.append(("kernel", release)) }
        facts.append(("buffer_kb", String(plan.bufferKB)))
        facts.append(("version", toolVersion))
        return RecordingMarker.text(facts)
    }

    private func startCommand() throws {
        // Stopped before it began (a signal during setup): do not start it.
        guard !plan.command.isEmpty, stopSignal.load(ordering: .acquiring) == 0 else { return }
        let process = try ChildProcess(command: plan.command)
        child.withLock { $0 = process }
        // A signal that arrived while the command was starting is passed on now.
        let pending = stopSignal.load(ordering: .acquiring)
        if pending != 0 { process.signal(pending) }
        let waiter = Thread { [self] in
            _ = process.wait()
            childExited.store(true, ordering: .releasing)
            wakeup.signal()
        }
        waiter.name = "wbreplay-wait"
        waiter.start()
    }

    /// Runs until the command exits, the duration passes or a stop is
    /// requested, reporting progress and collecting task names.
    private func monitor(instance: TracefsInstance, streamer: RingBufferStreamer, start: Date,
                         cmdlines: inout CommandLines, report: (RecorderReport) -> Void) -> StopReason {
        var lastEvents: UInt64 = 0
        var lastTime = start
        var ticks = 0
        while true {
            if stopSignal.load(ordering: .acquiring) != 0 { return .signal(stopSignal.load(ordering: .relaxed)) }
            if childExited.load(ordering: .acquiring) { return .commandExited }
            let now = Date()
            if let duration = plan.duration, now.timeIntervalSince(start) >= duration { return .duration }
            let stats = streamer.cpus.map { CPUBufferStats(cpu: $0, text: instance.read("per_cpu/cpu\($0)/stats") ?? "") }
            let events = stats.reduce(0) { $0 + $1.recorded }
            let dt = now.timeIntervalSince(lastTime)
            report(.progress(RecordingProgress(
                elapsed: now.timeIntervalSince(start), events: events,
                eventsPerSecond: dt > 0.05 ? Double(events &- lastEvents) / dt : 0,
                bytesWritten: streamer.bytesWritten, lostEvents: stats.reduce(0) { $0 + $1.lost })))
            lastEvents = events
            lastTime = now
            if ticks % 4 == 0, let saved = readSmallFile(instance.tracingDir + "/saved_cmdlines") {
                cmdlines.merge(savedCmdlines: saved)
            }
            ticks += 1
            var wait = Self.reportInterval
            if let duration = plan.duration { wait = min(wait, max(0.001, duration - now.timeIntervalSince(start))) }
            _ = wakeup.wait(timeout: .now() + wait)
        }
    }

    /// After a duration or a signal the command may still run: it gets the
    /// signal (SIGTERM for a duration), then SIGKILL after 5 s.
    private func finishCommand() -> CommandStatus? {
        guard let process = child.withLock({ $0 }) else { return nil }
        if process.finished == nil {
            let sig = stopSignal.load(ordering: .acquiring)
            if sig == 0 { process.signal(SIGTERM) }
            let deadline = Date().addingTimeInterval(5)
            while process.finished == nil, Date() < deadline { _ = wakeup.wait(timeout: .now() + 0.05) }
            if process.finished == nil { process.signal(SIGKILL) }
            while process.finished == nil { usleep(10_000) }
        }
        return process.finished
    }

    static func uname() -> String {
        var u = utsname()
        Glibc.uname(&u)
        func field<T>(_ v: T) -> String {
            withUnsafeBytes(of: v) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        }
        return [field(u.sysname), field(u.nodename), field(u.release), field(u.machine)].joined(separator: " ")
    }
}
