import Foundation
import Testing
@testable import TraceIO

/// Bad input: the reader throws one clear `TraceError` or skips and counts
/// damaged lines; it never crashes.
@Suite struct TextReaderNegativeTests {
    static let good = "         python3-9    [001] .....   1.000001: ext4_sync_fs: dev 7,0 wait 1\n"

    @Test func textThatIsNotATrace() throws {
        let path = TextSamples.write("hello world\nthis is not a trace\nnot: at all\n")
        #expect(throws: TraceError.unrecognisedFormat(path: path)) { try TextReader(path: path, format: .ftraceText) }
        #expect(throws: TraceError.unrecognisedFormat(path: path)) { try TextReader(path: path) }
    }

    @Test func binaryAndEmptyFiles() throws {
        let binary = TextSamples.write(bytes: [0x7F, 0x45, 0x4C, 0x46, 0, 1, 2, 3, 0x0A])
        #expect(throws: TraceError.unrecognisedFormat(path: binary)) { try TextReader(path: binary, format: .ftraceText) }
        let empty = TextSamples.write("")
        #expect(throws: TraceError.empty(path: empty)) { try TextReader(path: empty, format: .ftraceText) }
        let missing = TextSamples.tempDir.appendingPathComponent("missing.txt").path
        #expect(throws: TraceError.notFound(path: missing)) { try TextReader(path: missing, format: .ftraceText) }
        #expect(throws: TraceError.isDirectory(path: TextSamples.tempDir.path)) {
            try TextReader(path: TextSamples.tempDir.path, format: .ftraceText)
        }
        let text = TextSamples.write(Self.good)
        #expect(throws: TraceError.unrecognisedFormat(path: text)) { try TextReader(path: text, format: .traceDat(version: 7)) }
    }

    @Test func garbledLinesAreSkippedAndCounted() throws {
        let body = Self.good + """
        garbage line without structure
                 python3-9    [001] .....   1.000002 ext4_sync_fs: no colon after the timestamp
                 python3-x    [001] .....   1.000003: ext4_sync_fs: dev 7,0 wait 1
        \u{1}\u{2}\u{3}\u{FFFD}
                 python3-9    [0x1] .....   1.000004: ext4_sync_fs: dev 7,0 wait 1

        """ + Self.good
        let (reader, records) = try TextSamples.records(TextSamples.write(body))
        #expect(records.count == 2)
        #expect(reader.damagedLines == 5)
        #expect(reader.firstDamagedLine == 2)
    }

    @Test func truncatedLastLine() throws {
        let cut = Self.good + Self.good + "         python3-9    [001] .....   1.000003: ext4_sync_fs: dev 7,"
        let (reader, records) = try TextSamples.records(TextSamples.write(cut))
        #expect(records.count == 2)
        #expect(reader.damagedLines == 1)
        #expect(reader.firstDamagedLine == 3)
    }

    @Test func truncatedSampleKeepsEveryCompleteLine() throws {
        let full = try Data(contentsOf: URL(fileURLWithPath: Samples.path("dio_truncate.txt")))
        let half = full.prefix(full.count / 2)
        let path = TextSamples.write(bytes: Array(half))
        let completeLines = half.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        let eventLines = completeLines.filter { $0.first == 0x20 }.count
        let (reader, records) = try TextSamples.records(path)
        #expect(records.count == eventLines)
        #expect(reader.damagedLines == (half.last == 0x0A ? 0 : 1))
    }

    /// Random bytes and random cuts of real lines: no crash, every line
    /// accounted for as an event, a skip or a damaged line.
    @Test func randomInputNeverCrashes() throws {
        var rng = SplitMix(seed: 0x5eed)
        let sample = try String(contentsOfFile: Samples.path("punch_hole.txt"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }.prefix(2000).map(String.init)
        var lines: [String] = []
        for _ in 0..<3000 {
            var line = Array(sample[Int(rng.next() % UInt64(sample.count))].utf8)
            switch rng.next() % 4 {
            case 0: line = Array(line.prefix(Int(rng.next() % UInt64(line.count + 1))))
            case 1:
                for _ in 0..<3 where !line.isEmpty {
                    line[Int(rng.next() % UInt64(line.count))] = UInt8(truncatingIfNeeded: rng.next() % 0x7F + 1)
                }
            case 2: line = (0..<Int(rng.next() % 120)).map { _ in UInt8(truncatingIfNeeded: rng.next() % 0x7F + 1) }
            default: break
            }
            lines.append(String(decoding: line.filter { $0 != 0x0A }, as: UTF8.self))
        }
        let path = TextSamples.write(Self.good + lines.joined(separator: "\n") + "\n")
        let (reader, records) = try TextSamples.records(path)
        #expect(records.count + reader.damagedLines <= lines.count + 1)
        #expect(records.count > 500)
        #expect(reader.damagedLines > 100)
    }
}

/// A small deterministic generator for the random-input tests, so that a
/// failure can be reproduced.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
