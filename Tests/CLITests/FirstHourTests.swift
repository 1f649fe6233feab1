import Foundation
import Testing

/// What a newcomer meets in the first hour: indexes that `why` takes, errors
/// that say what would have been valid, `-` for standard input, no silent
/// "0 violated" on a trace of nothing, colour only on a terminal, and a
/// `schema_version` in every JSON document.
@Suite struct FirstHourTests {
    static let bug = CLI.fixture("truncate_conversion_bug.txt")

    /// The witness events `check` cites are the events `events` numbers the same way.
    @Test func eventIndexesAgreeWithCheckWitnesses() throws {
        for path in [Self.bug, CLI.trace("punch_hole.dat")] {
            let check = try CLI.json(try CLI.run(["check", "--format", "json", path]))
            let names = try Self.eventNames(path)
            let text = try CLI.run(["check", path]).stdoutText
            for f in check["findings"] as? [[String: Any]] ?? [] {
                for index in f["witness"] as? [Int] ?? [] {
                    let name = try #require(names[index])
                    #expect(text.contains("#\(index)  ") && text.contains(" \(name): "), "\(path) #\(index) \(name)")
                }
            }
            let lines = try CLI.run(["events", path]).stdoutText.split(separator: "\n")
            #expect(lines.first?.hasPrefix("#0 ") == true)
            #expect(lines.dropFirst(5).first?.hasPrefix("#5 ") == true)
        }
    }

    static func eventNames(_ path: String) throws -> [Int: String] {
        var out: [Int: String] = [:]
        for line in try CLI.run(["events", "--format", "jsonl", path]).stdout.split(separator: UInt8(ascii: "\n")) {
            let o = try JSONSerialization.jsonObject(with: line) as? [String: Any]
            if let i = o?["index"] as? Int, let n = o?["event"] as? String { out[i] = n }
        }
        return out
    }

    @Test(arguments: ["punch_hole.dat", "punch_hole.txt"])
    func unknownEventNameIsAnError(file: String) throws {
        let r = try CLI.run(["events", "--event", "ext4_nosuch_event", CLI.trace(file)])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("wbreplay: error: --event ext4_nosuch_event") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        // The names offered are the ext4 ones, the system the name asked for.
        #expect(r.stderr.contains("ext4_") && !r.stderr.contains("block_rq_issue"), "\(r.stderr)")
        // A name the trace knows but has no event of is not an error.
        let ok = try CLI.run(["events", "--event", "ext4_sync_file_enter", CLI.trace(file)])
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test func badProfileListsTheProfiles() throws {
        let r = try CLI.run(["check", "--profile", "ext4-9", Self.bug])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        for p in ["ext4-2.6.39", "ext4-3.6", "ext4-3.7-v4", "ext4-3.11", "ext4-6.15", "ext4-6.x"] {
            #expect(r.stderr.contains(p), "\(r.stderr)")
        }
    }

    /// `-` reads standard input, redirected from a file or through a pipe,
    /// for both readers, with the same result as the path.
    @Test(arguments: ["punch_hole.dat", "punch_hole.txt"])
    func dashReadsStandardInput(file: String) throws {
        let path = CLI.trace(file)
        let direct = try CLI.json(try CLI.run(["stats", "--no-graph", "--format", "json", path]))
        let redirected = try CLI.run(["stats", "--no-graph", "--format", "json", "-"], stdinFile: path)
        let piped = try CLI.run(["stats", "--no-graph", "--format", "json", "-"], pipe: try Data(contentsOf: URL(fileURLWithPath: path)))
        for r in [redirected, piped] {
            #expect(r.status == 0, "\(r.stderr)")
            let s = try CLI.json(r)
            #expect(s["events"] as? Int == direct["events"] as? Int)
            #expect(s["trace"] as? String == "-")
        }
        let check = try CLI.run(["check", "-"], pipe: try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(check.status == 0 && check.stdoutText.hasPrefix("-: "), "\(check.stderr)")
        let empty = try CLI.run(["check", "-"], pipe: Data())
        #expect(empty.status == 2 && empty.stderr == "wbreplay: error: -: empty file, not a trace\n")
        let garbage = try CLI.run(["check", "-"], pipe: Data("hello\n".utf8))
        #expect(garbage.status == 2 && garbage.stderr.hasPrefix("wbreplay: error: -: not a trace"), "\(garbage.stderr)")
    }

    /// A trace with no ext4 event at all: the verdict is kept, and a note says why it means nothing.
    @Test func traceWithoutExt4EventsGetsANote() throws {
        let text = try String(contentsOfFile: Self.bug, encoding: .utf8)
        let kept = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains(" ext4_") }
        #expect(kept.count < text.split(separator: "\n").count)
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("no-ext4.txt")
        try kept.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        for command in ["check", "stats"] {
            let r = try CLI.run([command, file.path])
            #expect(r.status == 0, "\(command): \(r.stderr)")
            #expect(r.stderr.contains("wbreplay: note:") && r.stderr.contains("no ext4 events"), "\(command): \(r.stderr)")
        }
        let real = try CLI.run(["check", Self.bug])
        #expect(!real.stderr.contains("note"), "\(real.stderr)")
    }

    @Test func everyJSONOutputHasASchemaVersion() throws {
        let dat = CLI.trace("punch_hole.dat")
        let documents: [[String]] = [
            ["check", "--format", "json", Self.bug],
            ["stats", "--format", "json", dat],
            ["stats", "--no-graph", "--format", "json", dat],
            ["replay", "--ino", "12", "--format", "json", dat],
            ["diff", "--profile", "ext4-6.x", "--format", "json", CLI.trace("diff/diff_default_a.txt")],
            ["diff", "--format", "json", CLI.trace("diff/diff_default_a.txt"), CLI.trace("diff/diff_default_a.txt")],
            ["why", "--event", "44", "--format", "json", Self.bug],
            ["graph", "--around", "44", "--format", "json", Self.bug],
            ["explore", "--scenario", "truncate-vs-conversion", "--format", "json"],
        ]
        for args in documents {
            let r = try CLI.run(args)
            #expect(r.status == 0 || r.status == 1, "\(args): \(r.stderr)")
            #expect(try CLI.json(r)["schema_version"] as? Int == 1, "\(args)")
        }
    }

    @Test func whyAsJSONAndAsAPicture() throws {
        let json = try CLI.json(try CLI.run(["why", "--event", "44", "--format", "json", Self.bug]))
        #expect(json["target"] as? Int == 44)
        let steps = try #require(json["steps"] as? [[String: Any]])
        #expect(steps.last?["index"] as? Int == 44)
        #expect(steps.contains { ($0["causes"] as? [[String: Any]])?.contains { $0["kind"] as? String == "bio_conversion" } == true })
        let dot = try CLI.run(["why", "--event", "44", "--format", "dot", Self.bug])
        #expect(dot.status == 0 && dot.stdoutText.hasPrefix("digraph"))
        #expect(dot.stdoutText.contains("cluster_lane") && dot.stdoutText.contains("n44 ["))
    }

    /// `graph --around` keeps a bounded neighbourhood, and dot draws it as
    /// lanes (as wide as the tasks, not the events).
    @Test(.enabled(if: CLI.which("dot") != nil, "graphviz (dot) is not installed"))
    func graphAroundAnEventIsBoundedAndDrawsAsLanes() throws {
        let path = CLI.trace("punch_hole.dat")
        let j = try CLI.json(try CLI.run(["graph", "--around", "11011", "--depth", "2", "--format", "json", path]))
        let nodes = try #require(j["nodes"] as? [[String: Any]])
        #expect(nodes.count > 5 && nodes.count <= 120)
        #expect(nodes.contains { $0["id"] as? Int == 11011 })
        let r = try CLI.run(["graph", "--around", "11011", "--depth", "2", path])
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("g.dot")
        try r.stdout.write(to: file)
        let svg = try CLI.run(executable: URL(fileURLWithPath: try #require(CLI.which("dot"))), ["-Tsvg", file.path])
        #expect(svg.status == 0, "\(svg.stderr)")
        let width = svg.stdoutText.firstMatch(of: /<svg width="(\d+)pt"/).flatMap { Int($0.1) }
        #expect((width ?? .max) < 3000, "\(String(describing: width)) pt wide")
        let bad = try CLI.run(["graph", "--around", "99999999", path])
        #expect(bad.status == 2 && bad.stderr.hasPrefix("wbreplay: error: --around 99999999"))
    }

    /// Colour only on a terminal and never with NO_COLOR; `script` gives the binary a terminal.
    @Test(.enabled(if: CLI.which("script") != nil, "script(1) (util-linux) is not installed"))
    func verdictsAreColouredOnlyOnATerminal() throws {
        let piped = try CLI.run(["check", Self.bug])
        #expect(!piped.stdoutText.contains("\u{1B}["))
        let script = URL(fileURLWithPath: try #require(CLI.which("script")))
        // The test runner may set NO_COLOR itself.
        let command = "env -u NO_COLOR \(CLI.binary.path) check \(Self.bug)"
        let tty = try CLI.run(executable: script, ["-qec", command, "/dev/null"])
        #expect(tty.stdoutText.contains("\u{1B}[1;31mVIOLATED"), "\(tty.stdoutText.prefix(300))")
        let noColor = try CLI.run(executable: script, ["-qec", "env NO_COLOR=1 \(CLI.binary.path) check \(Self.bug)", "/dev/null"])
        #expect(noColor.stdoutText.contains("VIOLATED") && !noColor.stdoutText.contains("\u{1B}[1;31m"))
    }
}
