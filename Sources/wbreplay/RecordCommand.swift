import ArgumentParser
import Dispatch
import Foundation
import TraceIO

/// `wbreplay record`: parses options, installs the signal handlers and renders
/// what `Recorder` reports. All recording logic lives in TraceIO.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record writeback events from the live kernel into a trace.dat.",
        discussion: """
        Uses a private tracefs instance (never the top-level buffer), streams the per-CPU \
        ring buffers to disk while COMMAND runs, and writes a trace.dat that trace-cmd and \
        KernelShark read. Stops when COMMAND exits (passing on its exit status), after \
        --duration, or on SIGINT/SIGTERM. The default clock is '\(RecordingPlan.defaultClock)': \
        it orders events across CPUs, and matches CLOCK_MONOTONIC in user space.
        """
    )

    @Option(name: .shortAndLong, help: "Output file.")
    var output: String = "trace.dat"

    @Option(help: "Event set: \(RecordingPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: String = RecordingPreset.writeback.rawValue

    @Option(name: .short, help: ArgumentHelp("Also record SYSTEM or SYSTEM:EVENT (repeatable).", valueName: "SYSTEM[:EVENT]"))
    var event: [String] = []

    @Option(help: "Keep only events of the file system mounted at PATH.")
    var mount: String?

    @Option(help: ArgumentHelp("Keep only events of device MAJ:MIN.", valueName: "MAJ:MIN"))
    var dev: String?

    @Option(name: .customLong("buffer-kb"), help: "Ring buffer size per CPU, in KB.")
    var bufferKB: Int = RecordingPlan.defaultBufferKB

    @Option(help: "Trace clock (mono, global, local, … as the kernel offers).")
    var clock: String = RecordingPlan.defaultClock

    @Option(help: "Stop after SECONDS.")
    var duration: Double?

    @Argument(parsing: .postTerminator, help: "The command to run and trace.")
    var command: [String] = []

    func run() throws {
        let plan: RecordingPlan
        do {
            plan = try makePlan()
        } catch let error as RecordError {
            fail(error.description)
        }
        let recorder = Recorder(plan: plan, toolVersion: WBReplay.configuration.version)
        let sources = installSignalHandlers(recorder)
        defer { sources.forEach { $0.cancel() } }

        let status = StatusLine(enabled: isatty(2) != 0)
        let result: RecordingResult
        do {
            result = try recorder.run { report in
                switch report {
                case .missingEvents(let names):
                    status.warn("warning: this kernel lacks \(names.joined(separator: ", ")); recording the rest")
                case .started, .writing:
                    break
                case .progress(let p):
                    status.show(p)
                }
            }
        } catch let error as RecordError {
            status.clear()
            fail(error.description)
        }
        status.clear()
        let lost = result.lostByCPU.values.reduce(0, +)
        let summary = "wbreplay: \(result.events) events, \(lost) lost, \(StatusLine.bytes(result.fileBytes)) in \(result.outputPath)"
        FileHandle.standardError.write(Data((summary + "\n").utf8))
        warnWithoutExt4Events(result)
        // A command the recorder ended after --duration did not fail.
        if result.stopReason != .duration, let code = result.commandStatus?.shellExitCode, code != 0 {
            throw ExitCode(code)
        }
    }

    private func makePlan() throws -> RecordingPlan {
        guard let preset = RecordingPreset(rawValue: preset) else {
            throw RecordError.usage("unknown preset '\(self.preset)' (\(RecordingPreset.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var extra: [EventSelector] = []
        for text in event {
            guard let selector = EventSelector(text) else { throw RecordError.usage("-e \(text): expected SYSTEM or SYSTEM:EVENT") }
            extra.append(selector)
        }
        if mount != nil, dev != nil { throw RecordError.usage("--mount and --dev exclude each other") }
        var device: DeviceSelection?
        if let mount { device = .mount(path: mount) }
        if let dev {
            guard let number = DeviceNumber(dev) else { throw RecordError.usage("--dev \(dev): not a MAJ:MIN device number") }
            device = .device(number)
        }
        if let duration, !(duration > 0) { throw RecordError.usage("--duration must be a positive number of seconds") }
        return RecordingPlan(preset: preset, extraEvents: extra, device: device, bufferKB: bufferKB,
                             clock: clock, duration: duration, command: command, outputPath: output)
    }

    /// SIGINT and SIGTERM stop the recording cleanly instead of killing the
    /// process: their default action is ignored, a dispatch source sees them.
    private func installSignalHandlers(_ recorder: Recorder) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM, SIGHUP].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { recorder.requestStop(signal: sig) }
            source.resume()
            return source
        }
    }

    private func fail(_ message: String) -> Never {
        Diagnostics.error(message)
        Foundation.exit(2)
    }

    /// A workload that ran outside the traced file system leaves a trace
    /// with no ext4 event of it, and `check` would call that clean: say so now.
    /// Only for a recording of one device (--mount, --dev), which the kernel
    /// filtered: its file is small when it has no ext4 event, and is read
    /// only up to its first one (among the first few events, when it has any).
    private func warnWithoutExt4Events(_ result: RecordingResult) {
        struct Found: Error {}
        guard mount != nil || dev != nil, let reader = try? TraceFile.open(path: result.outputPath) else { return }
        do {
            // The file system's own background work (bitmap loads) names no inode.
            try reader.forEachView(ReadOptions(fields: .named(["ino"]), keepRawText: false)) { record in
                if case .event(let e) = record, e.name.hasPrefix("ext4_"), e.value(named: "ino") != nil { throw Found() }
            }
        } catch is Found {
            return
        } catch {
            return
        }
        let device = mount.map { "the file system at \($0)" } ?? dev.map { "device \($0)" } ?? ""
        let hint = mount.map { " (cd into \($0) before running the command?)" } ?? " (cd into the mount?)"
        Diagnostics.warning("\(result.outputPath) holds no ext4 event about a file of \(device): the command did not write there\(hint)")
    }
}
