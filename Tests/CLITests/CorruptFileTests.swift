import Foundation
import Testing

/// Issue 7, "corrupt and partial files": whatever was done to a trace, `wbreplay
/// stats` either reads it (exit 0, events counted) or stops with one error line
/// and exit 2 — never a signal, a hang or unbounded memory. The damaged files
/// are made from the real traces in traces/ by cutting, zeroing and garbling.
@Suite struct CorruptFileTests {
    static let dat = "punch_hole.dat"
    static let text = "punch_hole.txt"

    /// The outcome of one `stats` run, after the never-acceptable ones
    /// (signal, timeout, exit other than 0 or 2, several error lines) failed the test.
    enum Outcome: Equatable {
        case read(events: Int)
        case rejected(String)
    }

    @discardableResult
    func expectReadOrRejected(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Outcome? {
        let r = try GuardedRun.run([CLI.binary.path, "stats", "--no-graph", path])
        #expect(!r.timedOut, "still running after \(GuardedRun.limitSeconds) s: killed", sourceLocation: sourceLocation)
        #expect(!r.killedBySignal, "killed by signal \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        guard !r.timedOut, !r.killedBySignal else { return nil }
        switch r.status {
        case 0:
            let line = r.stdoutText.split(separator: "\n").first { $0.hasPrefix("events:") }
            let events = line.flatMap { Int($0.dropFirst("events:".count).trimmingCharacters(in: .whitespaces)) }
            #expect(events != nil, "exit 0 without an events line: \(r.stdoutText.prefix(300))", sourceLocation: sourceLocation)
            return .read(events: events ?? -1)
        case 2:
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "expected one error line, got: \(r.stderr)", sourceLocation: sourceLocation)
            return .rejected(r.stderr)
        default:
            Issue.record("exit \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
            return nil
        }
    }

    func original(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: CLI.trace(name))))
    }

    func write(_ bytes: [UInt8], _ name: String, in dir: URL) -> String {
        let path = dir.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    // MARK: trace.dat

    /// Cut at every sixteenth of the file: from inside the headers to the last pages of CPU data.
    @Test(arguments: 1...15)
    func datTruncated(sixteenths: Int) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = try original(Self.dat)
        let cut = bytes.count * sixteenths / 16
        try expectReadOrRejected(write(Array(bytes.prefix(cut)), "cut-\(sixteenths).dat", in: dir))
    }

    /// Cuts inside the first few KiB, where the file and section headers are.
    @Test(arguments: [1, 11, 13, 17, 30, 60, 100, 400, 1000, 4096])
    func datTruncatedInHeaders(bytesKept: Int) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = try original(Self.dat)
        try expectReadOrRejected(write(Array(bytes.prefix(bytesKept)), "head-\(bytesKept).dat", in: dir))
    }

    /// A page of zeros at a page boundary half-way and three quarters into the
    /// file: inside the CPU data, where the ring-buffer pages are.
    @Test(arguments: [2, 3])
    func datZeroPage(quarters: Int) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = try original(Self.dat)
        let start = (bytes.count * quarters / 4) & ~4095
        for i in start..<min(start + 4096, bytes.count) { bytes[i] = 0 }
        try expectReadOrRejected(write(bytes, "zeros.dat", in: dir))
    }

    @Test func datBadMagic() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = try original(Self.dat)
        bytes[3] = UInt8(ascii: "X") // "\x17\x08Dtracing" -> "\x17\x08DXracing"
        let outcome = try expectReadOrRejected(write(bytes, "magic.dat", in: dir))
        if case .read = outcome { Issue.record("a file without the trace.dat magic was read as a trace") }
    }

    /// The version string after the magic ("6" or "7") replaced by versions that do not exist.
    @Test(arguments: ["9", "0", "A"])
    func datBadVersion(version: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = try original(Self.dat)
        #expect(bytes[10] == UInt8(ascii: "7") || bytes[10] == UInt8(ascii: "6"))
        bytes[10] = version.utf8.first!
        let outcome = try expectReadOrRejected(write(bytes, "version.dat", in: dir))
        if case .read = outcome { Issue.record("trace.dat version \(version) was read as a trace") }
    }

    /// The file's first 64 bytes (magic, version, endianness, page size,
    /// compression), then random bytes. Seeded: the same bytes every run.
    @Test(arguments: [64, 512, 4096])
    func datRandomAfterHeader(kept: Int) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = try original(Self.dat)
        var rng = SplitMix64(seed: UInt64(kept))
        let noise = (0..<(bytes.count - kept)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        try expectReadOrRejected(write(Array(bytes.prefix(kept)) + noise, "noise.dat", in: dir))
    }

    /// The first section header of a v7 file (right after the compression
    /// name and version strings and the 8-byte options offset) claims a size
    /// of terabytes, or its compressed block claims 4 GiB uncompressed. The
    /// reader must not try to hold what the file claims: max RSS stays bounded.
    @Test(arguments: [SizeField.sectionSize, .uncompressedSize, .compressedSize])
    func datHugeSizeClaim(field: SizeField) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = try original(Self.dat)
        guard bytes[10] == UInt8(ascii: "7") else { Issue.record("expected a v7 sample"); return }
        // Magic (10), version "7\0", endianness, long size, page size (4): offset 18.
        var offset = 18
        for _ in 0..<2 { offset = bytes[offset...].firstIndex(of: 0)! + 1 } // compression name, version
        offset += 8 // options offset
        let sectionHeader = offset // id (2), flags (2), string id (4), size (8)
        let compressed = bytes[sectionHeader + 2] & 1 == 1
        switch field {
        case .sectionSize:
            store(UInt64(1) << 42, at: sectionHeader + 8, width: 8, in: &bytes)
        case .uncompressedSize:
            guard compressed else { return }
            store(UInt64(UInt32.max), at: sectionHeader + 16 + 4, width: 4, in: &bytes)
        case .compressedSize:
            guard compressed else { return }
            store(UInt64(UInt32.max), at: sectionHeader + 16, width: 4, in: &bytes)
        }
        let path = write(bytes, "huge.dat", in: dir)
        try expectReadOrRejected(path)
        let rssKiB = try GuardedRun.maxRSSKiB([CLI.binary.path, "stats", "--no-graph", path])
        #expect(rssKiB < 500 * 1024, "max RSS \(rssKiB / 1024) MiB on a file claiming a huge \(field)")
    }

    enum SizeField: String, CustomStringConvertible, CaseIterable {
        case sectionSize, uncompressedSize, compressedSize
        var description: String { rawValue }
    }

    func store(_ value: UInt64, at offset: Int, width: Int, in bytes: inout [UInt8]) {
        for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    // MARK: text

    func textLines() throws -> [Substring] {
        let text = try String(contentsOfFile: CLI.trace(Self.text), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    func expectRecovered(_ path: String, events original: Int, lostAtMost: Int,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outcome = try expectReadOrRejected(path, sourceLocation: sourceLocation)
        guard case .read(let events) = outcome else {
            Issue.record("damaged text was not read: \(String(describing: outcome))", sourceLocation: sourceLocation)
            return
        }
        #expect(events <= original && events >= original - lostAtMost,
                "read \(events) events of \(original), at most \(lostAtMost) damaged", sourceLocation: sourceLocation)
    }

    func originalTextEvents() throws -> Int {
        guard case .read(let events) = try expectReadOrRejected(CLI.trace(Self.text)) else {
            Issue.record("the undamaged sample did not read"); return 0
        }
        return events
    }

    /// 100 event lines in the middle overwritten by bytes that are no ftrace line.
    @Test func textGarbledLines() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var lines = try textLines()
        let middle = lines.count / 2
        var rng = SplitMix64(seed: 7)
        for i in middle..<(middle + 100) {
            let garbage = (0..<lines[i].utf8.count).map { _ in UInt8.random(in: 0x21...0x7e, using: &rng) }
            lines[i] = Substring(String(decoding: garbage, as: UTF8.self))
        }
        let path = write(Array(lines.joined(separator: "\n").utf8), "garbled.txt", in: dir)
        try expectRecovered(path, events: originalTextEvents(), lostAtMost: 100)
    }

    /// One 64 MiB line (no newline in it) in the middle of the trace.
    @Test func textHugeLine() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var lines = try textLines()
        let middle = lines.count / 2
        lines.insert(Substring(String(repeating: "x", count: 64 << 20)), at: middle)
        let path = write(Array(lines.joined(separator: "\n").utf8), "huge-line.txt", in: dir)
        let events = try originalTextEvents()
        guard case .read(let read) = try expectReadOrRejected(path) else { return }
        #expect(read == events, "a garbage line cost events: \(read) of \(events)")
        let rssKiB = try GuardedRun.maxRSSKiB([CLI.binary.path, "stats", "--no-graph", path])
        #expect(rssKiB < 500 * 1024, "max RSS \(rssKiB / 1024) MiB on a 64 MiB line")
    }

    /// A NUL byte in the middle of an event line.
    @Test func textNulByte() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = try textLines()
        var bytes = Array(lines.joined(separator: "\n").utf8)
        let middle = bytes.count / 2
        bytes[middle] = 0
        try expectRecovered(write(bytes, "nul.txt", in: dir), events: originalTextEvents(), lostAtMost: 2)
    }

    /// Cut in the middle of a line, as a full disk leaves it.
    @Test func textCutMidLine() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = Array(try textLines().joined(separator: "\n").utf8)
        let cut = bytes[..<(bytes.count / 2)].lastIndex(of: UInt8(ascii: "\n"))! + 20
        let outcome = try expectReadOrRejected(write(Array(bytes.prefix(cut)), "cut.txt", in: dir))
        guard case .read(let events) = outcome else {
            Issue.record("a cut text trace was not read: \(String(describing: outcome))"); return
        }
        let original = try originalTextEvents()
        #expect(events > 0 && events < original)
    }
}

/// A deterministic generator, so that a failing corrupt file can be made again.
struct SplitMix64: RandomNumberGenerator {
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
