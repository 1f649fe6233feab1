import Foundation
import Testing
import TraceIO
import WritebackModel
@testable import Replay

/// Issue 7, "lost events": traces/lost_events was recorded on this machine with
/// a ring buffer far too small for its fio load (traces/record-lost-events.sh),
/// so both CPUs overran; the trace.dat keeps missed-events marks, the
/// `trace-cmd report` text `CPU:N [M EVENTS DROPPED]` lines. Verdicts that
/// depend on a lost window must be inconclusive and name it; none may be violated.
@Suite struct LostEventsTraceTests {
    static let dat = Paths.trace("lost-events/lost_events.dat")
    static let text = Paths.trace("lost-events/lost_events.txt")

    /// Every inconclusive finding's reason names a lost window of the report
    /// (or the overwrite before the first event), and the window overlaps
    /// the span of the events its verdict depends on.
    func expectNamesALostWindow(_ report: CheckReport, sourceLocation: SourceLocation = #_sourceLocation) {
        for f in report.findings where f.verdict == .inconclusive {
            let reason = f.inconclusiveReason ?? ""
            let times = [f.timestamp] + f.deciding.flatMap { [$0.before.timestamp] + ($0.after.map { [$0.timestamp] } ?? []) }
            let awaitedNever = f.deciding.contains { $0.after == nil }
            let (from, to) = (times.min()!, awaitedNever ? UInt64.max : times.max()!)
            let named = report.lostWindows.contains { w in
                reason.contains("lost on CPU \(w.cpu) between \(formatTime(w.start)) s and \(formatTime(w.end)) s")
                    && w.start <= to && from <= w.end
            }
            #expect(named || reason.contains("overwrote"),
                    "finding at \(f.timestamp) (\(f.rule)): \(reason)", sourceLocation: sourceLocation)
        }
    }

    @Test func datHasNoViolationAndNamesTheWindows() throws {
        let report = try Replay.check(TraceFile.open(path: Self.dat))
        #expect(report.choice.profile == .ext4_6_x)
        #expect(report.violated == 0, "\(report.findings.filter { $0.verdict == .violated }.map(\.explanation))")
        // The load made fsync verdicts fall inside the windows: they are there, and undecided.
        #expect(report.inconclusive > 0)
        expectNamesALostWindow(report)
        // Two CPUs overran: one window per overrun, each with a count.
        #expect(report.lostWindows.count >= 2)
        #expect(Set(report.lostWindows.map(\.cpu)) == [0, 1])
        #expect(report.lostWindows.allSatisfy { ($0.count ?? 0) > 0 && $0.start < $0.end })
        // Each loss once: the file's CPU statistics and its marks describe the same drops.
        let marked = report.lostWindows.reduce(0) { $0 + ($1.count ?? 0) }
        #expect(report.lostEvents >= marked && report.lostEvents < 2 * marked)
        #expect(report.lostCoverage.fraction > 0 && report.lostCoverage.fraction < 1)
        #expect(report.damagedEvents == 0)
    }

    /// The same ring buffer as `trace-cmd report` text: the same windows, no violation.
    @Test func textHasTheSameWindows() throws {
        let datReport = try Replay.check(TraceFile.open(path: Self.dat))
        let report = try Replay.check(TraceFile.open(path: Self.text), options: ReplayOptions(profile: .ext4_6_x))
        #expect(report.violated == 0)
        expectNamesALostWindow(report)
        #expect(report.lostWindows.map(\.cpu) == datReport.lostWindows.map(\.cpu))
        #expect(report.lostWindows.map(\.count) == datReport.lostWindows.map(\.count))
        #expect(report.events == datReport.events)
    }

    /// The verdicts really depend on the windows: with the loss marks and the
    /// CPU statistics taken away, the same events give violated findings.
    @Test func withoutTheLossRecordsTheSameEventsWouldBeViolations() throws {
        let reader = try TraceFile.open(path: Self.dat)
        var meta = reader.metadata
        var recs: [TraceRecord] = []
        try reader.forEach(ReadOptions(fields: .all, keepRawText: false)) {
            if case .event = $0 { recs.append($0) }
        }
        meta.lostByCPU = [:]
        let blind = Replay.check(records: recs, metadata: meta)
        #expect(blind.lostWindows.isEmpty)
        #expect(blind.violated > 0)
        let informed = try Replay.check(TraceFile.open(path: Self.dat))
        #expect(blind.violated <= informed.inconclusive + informed.violated)
    }
}
