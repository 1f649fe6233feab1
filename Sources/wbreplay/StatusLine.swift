import Foundation
import TraceIO

/// The live status line of `wbreplay record` and of long reading passes,
/// redrawn in place on a terminal and silent otherwise (logs and pipes get
/// only the final summary).
final class StatusLine: @unchecked Sendable {
    let enabled: Bool
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    /// A status line when standard error is a terminal, else nil.
    static func onTerminal() -> StatusLine? { Terminal.isTTY(2) ? StatusLine(enabled: true) : nil }

    func show(line: String) {
        guard enabled else { return }
        write("\r\u{1B}[K" + line)
        drawn = true
    }

    func show(_ p: RecordingProgress) {
        guard enabled else { return }
        let line = String(format: "recording %6.1fs  %9llu events  %8.0f ev/s  %9@ written  %llu lost",
                          p.elapsed, p.events, p.eventsPerSecond, Self.bytes(p.bytesWritten) as NSString, p.lostEvents)
        write("\r\u{1B}[K" + line)
        drawn = true
    }

    /// A line that must stay visible: printed above the status line.
    func warn(_ message: String) {
        clear()
        write(message + "\n")
    }

    func clear() {
        if drawn { write("\r\u{1B}[K") }
        drawn = false
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }

    /// 950, 12.3 k, 4.56 M.
    static func count(_ n: Int) -> String {
        if n < 10_000 { return "\(n)" }
        if n < 1_000_000 { return String(format: "%.1f k", Double(n) / 1e3) }
        return String(format: "%.2f M", Double(n) / 1e6)
    }

    static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }
}
