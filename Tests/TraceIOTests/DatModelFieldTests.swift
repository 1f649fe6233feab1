import Foundation
import Testing
@testable import TraceIO

/// The fields the writeback model reads, checked against the ftrace text the
/// kernel printed from the same ring buffer (traces/NAME.txt): a second,
/// independent oracle next to `trace-cmd report`.
@Suite struct DatModelFieldTests {
    /// `NAME: rest` of every text event line called `name`, in order.
    static func textEvents(_ pairName: String, named name: String) throws -> [Substring] {
        let text = try String(contentsOfFile: Samples.path(pairName + ".txt"), encoding: .utf8)
        let marker = " \(name): "
        return text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let range = line.range(of: marker) else { return nil }
            return line[range.upperBound...]
        }
    }

    static func datEvents(_ pairName: String, named name: String) throws -> [TraceEvent] {
        var events: [TraceEvent] = []
        try DatReader(path: Samples.path(pairName + ".dat")).forEach(ReadOptions()) { record in
            if case .event(let e) = record, e.name == name { events.append(e) }
        }
        return events
    }

    /// The token after `label` in a printed event (`ino 12` → "12").
    static func value(after label: String, in text: Substring) -> Substring? {
        let tokens = text.split(separator: " ")
        guard let i = tokens.firstIndex(where: { $0 == label }), i + 1 < tokens.count else { return nil }
        return tokens[i + 1]
    }

    @Test(arguments: Samples.pairNames)
    func unwrittenExtentConversionFields(pair: String) throws {
        let text = try Self.textEvents(pair, named: "ext4_ext_handle_unwritten_extents")
        let dat = try Self.datEvents(pair, named: "ext4_ext_handle_unwritten_extents")
        #expect(dat.count == text.count)
        for (event, line) in zip(dat, text) {
            // the kernel prints the format's lblk/pblk/len as m_lblk/m_pblk/m_len
            #expect(event.fields.uint("lblk").map(String.init) == Self.value(after: "m_lblk", in: line).map(String.init))
            #expect(event.fields.uint("pblk").map(String.init) == Self.value(after: "m_pblk", in: line).map(String.init))
            #expect(event.fields.uint("len").map(String.init) == Self.value(after: "m_len", in: line).map(String.init))
            let printedDev = Self.value(after: "dev", in: line).flatMap { DeviceNumber($0) }
            #expect(event.fields.device("dev") == printedDev)
            #expect(printedDev != nil)
        }
    }

    @Test(arguments: Samples.pairNames)
    func blockRequestFields(pair: String) throws {
        for name in ["block_rq_issue", "block_rq_complete"] {
            let text = try Self.textEvents(pair, named: name)
            let dat = try Self.datEvents(pair, named: name)
            #expect(dat.count == text.count)
            for (event, line) in zip(dat, text) {
                // `7,0 RM 4096 () 16968 + 8 …` (issue) / `7,0 RM () 16968 + 8 …` (complete)
                let tokens = line.split(separator: " ")
                #expect(event.fields.device("dev") == DeviceNumber(tokens[0]))
                #expect(event.fields.string("rwbs") == String(tokens[1]))
                guard let plus = tokens.firstIndex(of: "+") else {
                    Issue.record("no sector in \(line)")
                    continue
                }
                #expect(event.fields.uint("sector").map(String.init) == String(tokens[plus - 1]))
                #expect(event.fields.uint("nr_sector").map(String.init) == String(tokens[plus + 1]))
            }
        }
    }

    @Test(arguments: Samples.pairNames)
    func dirtyFolioFields(pair: String) throws {
        let text = try Self.textEvents(pair, named: "writeback_dirty_folio")
        let dat = try Self.datEvents(pair, named: "writeback_dirty_folio")
        #expect(dat.count == text.count)
        for (event, line) in zip(dat, text) {
            // `bdi 7:0: ino=12 index=66`
            let pairs = Dictionary(uniqueKeysWithValues: line.split(separator: " ").compactMap { token -> (String, String)? in
                let parts = token.split(separator: "=", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            })
            #expect(event.fields.uint("ino").map(String.init) == pairs["ino"])
            #expect(event.fields.uint("index").map(String.init) == pairs["index"])
            #expect(event.fields.string("name").map { "bdi \($0):" } == line.split(separator: " ").prefix(2).joined(separator: " "))
        }
    }

    /// The work function is exposed by name (resolved through the file's
    /// kallsyms), as the kernel prints it with %ps.
    @Test(arguments: Samples.pairNames)
    func workqueueFunctionIsTheSymbolName(pair: String) throws {
        for name in ["workqueue_queue_work", "workqueue_execute_start", "workqueue_execute_end"] {
            let text = try Self.textEvents(pair, named: name)
            let dat = try Self.datEvents(pair, named: name)
            #expect(dat.count == text.count)
            for (event, line) in zip(dat, text) {
                let printed = Self.value(after: "function", in: line)
                    ?? line.split(separator: " ").first(where: { $0.hasPrefix("function=") })?.dropFirst("function=".count)
                #expect(event.fields.string("function") == printed.map(String.init))
                #expect(printed.map { !$0.hasPrefix("0x") } == true)
            }
        }
    }

    /// ext4's `dev` is a kernel dev_t; the reader exposes it as a device that
    /// prints "MAJ:MIN" — the same numbers the kernel printed as "MAJ,MIN".
    @Test(arguments: Samples.pairNames)
    func ext4DevicesPrintAsMajorColonMinor(pair: String) throws {
        let text = try String(contentsOfFile: Samples.path(pair + ".txt"), encoding: .utf8)
        var printed: Set<String> = []
        for line in text.split(separator: "\n") where line.contains(": ext4_") {
            if let dev = Self.value(after: "dev", in: line) { printed.insert(dev.replacingOccurrences(of: ",", with: ":")) }
        }
        var decoded: Set<String> = []
        try DatReader(path: Samples.path(pair + ".dat")).forEach(ReadOptions(fields: .named(["dev"]))) { record in
            if case .event(let e) = record, e.system == "ext4", let dev = e.fields["dev"] {
                #expect(dev.device != nil)
                decoded.insert(dev.description)
            }
        }
        #expect(!decoded.isEmpty)
        #expect(decoded == printed)
    }
}
