import Foundation
import TraceIO

/// The reader every command reads through: the trace as the user named it
/// (`-` for standard input), a progress line on a terminal while a long pass
/// runs, and whether any ext4 event about a file went by (a trace without
/// one is almost always a recording of the wrong directory — the file
/// system's own background work, bitmap loads, names no inode — and `check`
/// would say "0 violated" about nothing).
final class ProgressReader: TraceReader {
    let inner: any TraceReader
    /// The name the user gave (`-`, or the path).
    let path: String
    private let status: StatusLine?
    private let label: String
    /// Set once an ext4 event with an `ino` field has been read (among the
    /// fields the pass decodes: a replay decodes them for every ext4 event
    /// it interprets).
    private(set) var sawExt4Events = false
    /// Events of the last pass.
    private(set) var events = 0

    init(inner: any TraceReader, shownPath: String, label: String, status: StatusLine?) {
        self.inner = inner
        path = shownPath
        self.label = label
        self.status = status
    }

    var metadata: TraceMetadata { inner.metadata }
    var damagedEvents: Int { inner.damagedEvents }
    var fractionRead: Double? { inner.fractionRead }
    var eventNames: Set<String>? { inner.eventNames }

    func forEach(_ options: ReadOptions, _ body: (TraceRecord) throws -> Void) throws {
        var meter = ProgressMeter(label: label, status: status)
        // Locals, not the class's properties: those would cost every event
        // a dynamic exclusivity check.
        var saw = sawExt4Events
        defer { finish(meter, saw) }
        try renamingErrors {
            try inner.forEach(options) { record in
                if case .event(let e) = record {
                    meter.count += 1
                    if !saw, e.name.hasPrefix("ext4_"), e.fields["ino"] != nil { saw = true }
                    if meter.count & ProgressMeter.mask == 0 { meter.tick(inner.fractionRead) }
                }
                try body(record)
            }
        }
    }

    func forEachView(_ options: ReadOptions, _ body: (TraceRecordView) throws -> Void) throws {
        var meter = ProgressMeter(label: label, status: status)
        // Locals, not the class's properties: those would cost every event
        // a dynamic exclusivity check.
        var saw = sawExt4Events
        defer { finish(meter, saw) }
        try renamingErrors {
            try inner.forEachView(options) { record in
                if case .event(let e) = record {
                    meter.count += 1
                    if !saw, e.name.hasPrefix("ext4_"), e.value(named: "ino") != nil { saw = true }
                    if meter.count & ProgressMeter.mask == 0 { meter.tick(inner.fractionRead) }
                }
                try body(record)
            }
        }
    }

    private func finish(_ meter: ProgressMeter, _ saw: Bool) {
        events = meter.count
        sawExt4Events = saw
        status?.clear()
    }

    private func renamingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as TraceError {
            throw error.naming(path, for: inner.path)
        }
    }
}

/// Counts a pass's events and redraws the status line a few times a second,
/// once the pass has run for a second (a short trace never shows one).
struct ProgressMeter {
    /// Every 8192 events the clock is read.
    static let mask = 8191
    let label: String
    let status: StatusLine?
    var count = 0
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0

    init(label: String, status: StatusLine?) {
        self.label = label
        self.status = status
    }

    mutating func tick(_ fraction: Double?) {
        guard let status else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let elapsed = now - start
        guard elapsed >= 1_000_000_000, now - lastDraw >= 200_000_000 else { return }
        lastDraw = now
        let rate = Double(count) / (Double(elapsed) / 1e9)
        var line = label
        if let fraction { line += String(format: " %3.0f%%", min(1, max(0, fraction)) * 100) }
        line += "  \(StatusLine.count(count)) events  \(StatusLine.count(Int(rate))) events/s"
        status.show(line: line)
    }
}
