import Foundation
import Testing
import TraceIO
import WritebackModel
@testable import Replay

/// Paths relative to the repository.
enum Paths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func trace(_ name: String) -> String { root.appendingPathComponent("traces/\(name)").path }
    static func fixture(_ name: String) -> String {
        root.appendingPathComponent("Tests/ReplayTests/Fixtures/\(name)").path
    }
    static var realTraces: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("traces").path)) ?? []
        return names.filter { $0.hasSuffix(".txt") || $0.hasSuffix(".dat") }.sorted()
    }
}

func records(_ path: String) throws -> (TraceMetadata, [TraceRecord]) {
    let reader = try TraceFile.open(path: path)
    var out: [TraceRecord] = []
    try reader.forEach(ReadOptions(fields: .all, keepRawText: false)) { out.append($0) }
    return (reader.metadata, out)
}

@Suite struct RealTraces {
    /// Issue 5 point 1: every real trace recorded on this 6.18 kernel is clean.
    @Test(arguments: Paths.realTraces)
    func noViolation(_ name: String) throws {
        let report = try Replay.check(TraceFile.open(path: Paths.trace(name)))
        #expect(report.events > 1000)
        #expect(report.violated == 0, "\(report.findings.map { "\($0.rule) \($0.ino) \($0.lblk)+\($0.len)" })")
        #expect(report.inconclusive == 0)
    }

    /// trace.dat records the kernel release: the profile follows it.
    @Test func datPicksTheRecordedKernel() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.trace("fsync_unwritten.dat")))
        #expect(report.choice.profile == .ext4_6_x)
        #expect(report.choice.reason.contains("6.18"))
        #expect(report.divergenceCount == 0)
        #expect(report.clock == "local")
    }

    /// A text trace names no kernel: best fit, and a 6.18 trace fits the modern profile and not 3.6.
    @Test func textBestFitIsModern() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.trace("fsync_unwritten.txt")))
        #expect(report.choice.profile == .ext4_6_x)
        #expect(report.choice.reason.contains("best fit"))
        #expect((report.choice.divergences[.ext4_6_x] ?? -1) == 0)
    }

    /// `check` and `diff` rank profiles the same way (conformance, then
    /// divergences): on the 6.18 text trace with two lost windows, where the
    /// old profiles diverge less often but on more objects, both pick the
    /// modern family — `check` used to pick ext4-3.6 by its raw count.
    @Test func bestFitAgreesWithDiffNextToLostWindows() throws {
        let path = Paths.trace("lost-events/lost_events.txt")
        let report = try Replay.check(TraceFile.open(path: path))
        let diff = try ProfileDiff.run(TraceFile.open(path: path))
        #expect(report.choice.profile == diff.bestProfile)
        #expect(report.choice.profile == .ext4_6_x)
        #expect(report.choice.reason.contains("of objects conform"))
        // With work items and bios bound by the event graph, 6.x also diverges
        // less than 3.6 next to the windows (only conformance decided it before).
        #expect((report.choice.divergences[.ext4_6_x] ?? .max) < (report.choice.divergences[.ext4_3_6] ?? 0))
    }

    /// The model really ran: inode 12's io_ends went queued → converting → released.
    @Test func historyOfInode12() throws {
        let report = try Replay.check(TraceFile.open(path: Paths.trace("fsync_unwritten.txt")),
                                      options: ReplayOptions(historyIno: 12))
        let ioEnds = report.histories.filter { $0.object.hasPrefix("io_end") }
        #expect(ioEnds.count > 500)
        let states = Set(ioEnds.flatMap { $0.changes.map { $0.state.split(separator: " ").first.map(String.init) ?? "" } })
        #expect(states.isSuperset(of: ["queued", "converting", "converted", "released"]))
        #expect(report.histories.contains { $0.object.hasPrefix("folio") })
        #expect(report.histories.contains { $0.object.hasPrefix("blocks") && $0.changes.contains { $0.state == "written" } })
    }

    /// 6.18's `__folio_start_writeback` prints `sb_mark_inode_writeback`
    /// inside `ext4_bio_write_folio`, before the folio's bio is queued. In
    /// freeze_mmap both msyncs start with folio 0. The first maps blocks
    /// before the trace has shown the block size (its bio is the first
    /// map → bio pair), so its folios, 0…256 (lblk 0, 2056 sectors), start
    /// at its `block_bio_queue` and folio 257 with the next bio; the second
    /// writes mapped folios: folio 0 starts at the mark, before its bio.
    @Test func writebackStartsAtTheInodesMark() throws {
        let path = Paths.trace("freeze_mmap.txt")
        let events = try records(path).1.compactMap { if case .event(let e) = $0 { e } else { nil } }
        let marks = events.filter { $0.name == "sb_mark_inode_writeback" }.map(\.timestamp)
        try #require(marks.count == 2)
        let bios = events.filter { $0.name == "block_bio_queue" && $0.timestamp > marks[0] }.map(\.timestamp)
        try #require(bios.count > 2)
        let report = try Replay.check(TraceFile.open(path: path), options: ReplayOptions(profile: .ext4_6_x, historyIno: 12))
        func writebackStarts(_ folio: Int) -> [UInt64] {
            let changes = report.histories.first { $0.object == "folio \(folio)" }?.changes ?? []
            return changes.filter { $0.transition == "ext4_bio_write_folio" }.map(\.timestamp)
        }
        #expect(writebackStarts(0) == [bios[0], marks[1]])
        for folio in [1, 128, 256] { #expect(writebackStarts(folio).first == bios[0], "folio \(folio)") }
        #expect(writebackStarts(257).first == bios[1])
    }
}

@Suite struct ProfileChoiceTests {
    @Test func releases() {
        #expect(KernelProfile.forRelease("6.18.44-fc-v669") == .ext4_6_x)
        #expect(KernelProfile.forRelease("6.15.2") == .ext4_6_15)
        #expect(KernelProfile.forRelease("5.10.0-23-amd64") == .ext4_5_10)
        #expect(KernelProfile.forRelease("6.12.117+deb13-amd64") == .ext4_6_12)
        #expect(KernelProfile.forRelease("4.19.0") == .ext4_3_11)
        #expect(KernelProfile.forRelease("3.7.10") == .ext4_3_7)
        #expect(KernelProfile.forRelease("3.6.0") == .ext4_3_6)
        #expect(KernelProfile.forRelease("2.6.39.4") == .ext4_2_6_39)
        #expect(KernelProfile.forRelease("garbage") == nil)
    }
}
