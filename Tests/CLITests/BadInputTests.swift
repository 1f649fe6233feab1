import Foundation
import Testing

/// Issue 2, "bad input": one clear error line on stderr, exit code 2, no crash,
/// no signal — for every reading command.
@Suite struct BadInputTests {
    static let commands = ["events", "stats"]

    func expectCleanError(_ args: [String], mentions: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(args)
        #expect(!r.killedBySignal, "killed by a signal: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.status == 2, "exit \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "expected one error line, got: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(mentions), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    }

    @Test(arguments: commands)
    func emptyFile(command: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("empty.dat").path
        FileManager.default.createFile(atPath: path, contents: Data())
        try expectCleanError([command, path], mentions: "empty")
    }

    @Test(arguments: commands)
    func missingFile(command: String) throws {
        try expectCleanError([command, "/nonexistent/trace.dat"], mentions: "no such file")
    }

    @Test(arguments: commands)
    func directory(command: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try expectCleanError([command, dir.path], mentions: "directory")
    }

    @Test(arguments: commands)
    func randomBytes(command: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<65536).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let path = dir.appendingPathComponent("random.bin").path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        try expectCleanError([command, path], mentions: "not a trace")
    }

    @Test(arguments: commands)
    func textThatIsNotATrace(command: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("notes.txt").path
        let text = String(repeating: "This is a shopping list, [1] not a trace: eggs, milk.\n", count: 200)
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        try expectCleanError([command, path], mentions: "not a trace")
    }

    /// A trace.dat cut at half its size: libtracecmd finds the CPU data
    /// shorter than its header promises.
    @Test(arguments: commands)
    func truncatedTraceDat(command: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = try Data(contentsOf: URL(fileURLWithPath: CLI.trace("fsync_unwritten.dat")))
        let path = dir.appendingPathComponent("half.dat").path
        FileManager.default.createFile(atPath: path, contents: whole.prefix(whole.count / 2))
        try expectCleanError([command, path], mentions: "half.dat")
    }

    /// FuzzDatReader's kbuffer find (a page whose commit word claims 128 MB
    /// with the lost-events flags set; `trace-cmd report` crashes on it):
    /// every reading command refuses it with one line and exit 2.
    @Test(arguments: ["events", "stats", "check"])
    func datPageKbufferWouldReadPast(command: String) throws {
        let path = CLI.repoRoot.appendingPathComponent("Tests/Fixtures/fuzz/open-kbuffer-reads-past-page.dat").path
        try expectCleanError([command, path], mentions: "page 1: it claims 134217601 bytes of events")
    }

    @Test func unknownOptionIsAUsageError() throws {
        let r = try CLI.run(["stats", "--no-such-option", CLI.trace("punch_hole.dat")])
        #expect(r.status == 2)
        #expect(!r.killedBySignal)
    }
}
