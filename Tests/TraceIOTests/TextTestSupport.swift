import Foundation
import Testing
@testable import TraceIO

/// Helpers for the text-reader tests: temporary trace files and
/// `trace-cmd report` output of the sample trace.dat files.
enum TextSamples {
    /// One directory per test process; those of earlier runs are removed
    /// (their reports are regenerated), so runs do not pile up files.
    static let tempDir: URL = {
        let tmp = FileManager.default.temporaryDirectory
        for old in (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []
        where old.hasPrefix("wbr-text-") {
            if let pid = Int32(old.dropFirst("wbr-text-".count)), pid != getpid(), kill(pid, 0) != 0 {
                try? FileManager.default.removeItem(at: tmp.appendingPathComponent(old))
            }
        }
        let dir = tmp.appendingPathComponent("wbr-text-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Writes `text` to a fresh file and returns its path.
    static func write(_ text: String, name: String = UUID().uuidString + ".txt") -> String {
        let url = tempDir.appendingPathComponent(name)
        FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8))
        return url.path
    }

    static func write(bytes: [UInt8]) -> String {
        let url = tempDir.appendingPathComponent(UUID().uuidString + ".bin")
        FileManager.default.createFile(atPath: url.path, contents: Data(bytes))
        return url.path
    }

    /// Tests run in parallel; each report is written once, by one of them.
    static let reportLock = NSLock()

    /// `trace-cmd report ARGS traces/NAME.dat`, written once per test process.
    static func report(_ name: String, _ args: [String]) throws -> String {
        reportLock.lock()
        defer { reportLock.unlock() }
        let out = tempDir.appendingPathComponent("\(name)\(args.joined()).report")
        if FileManager.default.fileExists(atPath: out.path) { return out.path }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["trace-cmd", "report"] + args + [Samples.path(name + ".dat")]
        let partial = out.appendingPathExtension("part")
        FileManager.default.createFile(atPath: partial.path, contents: nil)
        let handle = try FileHandle(forWritingTo: partial)
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        try #require(process.terminationStatus == 0, "trace-cmd report failed for \(name)")
        try FileManager.default.moveItem(at: partial, to: out)
        return out.path
    }

    /// All records of a file, read with `options`.
    static func records(_ path: String, _ options: ReadOptions = ReadOptions()) throws -> (TextReader, [TraceRecord]) {
        let reader = try TextReader(path: path)
        var records: [TraceRecord] = []
        try reader.forEach(options) { records.append($0) }
        return (reader, records)
    }

    static func events(_ path: String, _ options: ReadOptions = ReadOptions()) throws -> [TraceEvent] {
        try records(path, options).1.compactMap { if case .event(let e) = $0 { return e } else { return nil } }
    }

    /// Events of each CPU, in file order.
    static func perCPU(_ events: [TraceEvent]) -> [Int: [TraceEvent]] {
        Dictionary(grouping: events, by: \.cpu)
    }

    /// Lines of a text trace that are events, counted without the reader:
    /// not a comment, not a header, not blank, not a LOST mark.
    static func eventLineCount(_ path: String) throws -> Int {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").filter { line in
            let t = line.drop(while: { $0 == " " })
            return !t.isEmpty && !t.hasPrefix("#") && !line.hasPrefix("cpus=") && !line.hasPrefix("version = ")
                && !t.contains("[LOST ") && !t.contains("EVENTS DROPPED]")
        }.count
    }

    /// Fields the two text forms cannot agree on, derived from the specs:
    /// pointers (tracefs prints them hashed) and, for symbols, addresses
    /// the kernel printed in hex that libtraceevent names after the nearest symbol.
    static func comparable(_ event: String, _ field: String, _ a: FieldValue?, _ b: FieldValue?) -> Bool {
        for spec in EventSpecCatalog.all where spec.event == event {
            guard let index = spec.fieldNames.firstIndex(of: field) else { continue }
            if spec.ops.contains(where: { !$0.isLiteral && $0.field == index && $0.conversion == .pointer }) { return false }
            if spec.fieldKinds[index] == .symbol,
               a?.stringValue?.hasPrefix("0x") == true || b?.stringValue?.hasPrefix("0x") == true {
                return false
            }
        }
        return true
    }
}
