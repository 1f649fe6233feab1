import Foundation
import Testing

/// Issue 2, point 1: `wbreplay events --format jsonl` yields exactly the events
/// `trace-cmd report -t` prints, over whole files; and the text of each pair
/// yields the same events as its trace.dat.
@Suite struct ConformanceTests {
    static var pairs: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(
            atPath: CLI.repoRoot.appendingPathComponent("traces").path)) ?? []
        return files.filter { $0.hasSuffix(".dat") }.map { String($0.dropLast(4)) }
            .filter { files.contains($0 + ".txt") }.sorted()
    }

    /// Fields whose format prints them with `%p` (workqueue's `work struct %p`).
    static let hashedPointerFields: Set<String> = ["work"]

    /// A `%ps` field whose address is not in the kernel's symbol table (a data
    /// address such as iomap's `ops`) prints as hex in the kernel's text, while
    /// libtraceevent, like `trace-cmd report`, names the nearest symbol from the
    /// file's kallsyms. Neither is wrong; they are not comparable.
    static func unresolvedSymbol(text: Any, dat: Any?) -> Bool {
        guard let t = text as? String, let d = dat as? String else { return false }
        return t.hasPrefix("0x") && !d.hasPrefix("0x")
    }

    func events(_ file: String) throws -> [JSONLEvent] {
        let r = try CLI.run(["events", "--format", "jsonl", file])
        #expect(r.status == 0, "\(file): \(r.stderr)")
        return try JSONLEvent.parse(r.stdout)
    }

    @Test(arguments: pairs)
    func datMatchesTraceCmdReport(name: String) throws {
        let path = CLI.trace(name + ".dat")
        let oracle = try ReportOracle.report(path)
        let ours = try events(path)
        #expect(oracle.count > 1000)
        #expect(ours.count == oracle.count)
        let mismatch = zip(ours, oracle).enumerated().first { $0.element.0.oracleView != $0.element.1 }
        #expect(mismatch == nil, "first difference at event \(mismatch?.offset ?? -1): ours \(mismatch.map { "\($0.element.0.oracleView)" } ?? "") vs trace-cmd \(mismatch.map { "\($0.element.1)" } ?? "")")
    }

    /// Text timestamps are microseconds, rounded by the kernel; order within
    /// a CPU is the ring buffer's, so the two are compared CPU by CPU.
    @Test(arguments: pairs)
    func textMatchesDat(name: String) throws {
        let dat = try events(CLI.trace(name + ".dat"))
        let text = try events(CLI.trace(name + ".txt"))
        #expect(text.count == dat.count)
        for cpu in Set(dat.map(\.cpu)).sorted() {
            let d = dat.filter { $0.cpu == cpu }
            let t = text.filter { $0.cpu == cpu }
            #expect(t.count == d.count, "cpu \(cpu)")
            var fieldMismatches: [String] = []
            for (a, b) in zip(t, d) {
                let rounded = (b.timestamp + 500) / 1000 * 1000
                if a.timestamp != rounded || a.pid != b.pid || a.name != b.name {
                    Issue.record("cpu \(cpu): text \(a.oracleView) vs dat \(b.oracleView)")
                    break
                }
                // Every field the text reader decoded must carry the trace.dat value,
                // except pointers the kernel prints with %p: the text shows a
                // per-boot hash of the address, trace.dat the address itself. Both
                // identify the same object within one trace, which is all they are used for.
                for (key, value) in a.fields where !Self.hashedPointerFields.contains(key) {
                    let other = b.fields[key]
                    if Self.unresolvedSymbol(text: value, dat: other) { continue }
                    if "\(value)" != "\(other ?? "missing")", fieldMismatches.count < 5 {
                        fieldMismatches.append("\(a.name).\(key): text \(value) vs dat \(other ?? "missing")")
                    }
                }
            }
            #expect(fieldMismatches.isEmpty, "\(fieldMismatches)")
        }
    }

    @Test func jsonlSchema() throws {
        let r = try CLI.run(["events", "--format", "jsonl", "--event", "ext4_sync_file_enter",
                             CLI.trace("fsync_unwritten.dat")])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: UInt8(ascii: "\n"))
        let headerLine = try #require(lines.first)
        let header = try #require(try JSONSerialization.jsonObject(with: headerLine) as? [String: Any])
        #expect(header["schema_version"] as? Int == 1)
        #expect(header["format"] as? String == "trace.dat v7")
        let first = try #require(lines.dropFirst().first)
        let object = try #require(try JSONSerialization.jsonObject(with: first) as? [String: Any])
        #expect(Set(object.keys) == ["index", "ts_ns", "cpu", "pid", "comm", "event", "fields"])
        #expect(object["event"] as? String == "ext4_sync_file_enter")
        let fields = try #require(object["fields"] as? [String: Any])
        #expect(fields["dev"] as? String == "7:0")
        #expect(fields["ino"] is NSNumber)
    }

    @Test func filtersByInodeAndDevice() throws {
        let path = CLI.trace("rename_over_dirty.dat")
        let all = try events(path)
        let r = try CLI.run(["events", "--format", "jsonl", "--dev", "7:0", "--ino", "12", path])
        let some = try JSONLEvent.parse(r.stdout)
        #expect(!some.isEmpty && some.count < all.count)
        for e in some {
            let ino = (e.fields["ino"] ?? e.fields["i_ino"]) as? NSNumber
            #expect(ino?.uint64Value == 12, "\(e.name)")
        }
        let none = try CLI.run(["events", "--format", "jsonl", "--dev", "250:9", path])
        #expect(none.status == 0)
        #expect(try JSONLEvent.parse(none.stdout).isEmpty)
    }
}
