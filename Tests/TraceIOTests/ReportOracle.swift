import Foundation
@testable import TraceIO

/// One event line of `trace-cmd report -t -R`: nanosecond timestamps and every
/// field printed raw as ` name=value` in format order.
struct OracleEvent {
    var timestamp: UInt64
    var cpu: Int
    var pid: Int32
    var comm: String
    var name: String
    /// The printed fields, `name=value name=value …`.
    var raw: Substring
}

/// Runs trace-cmd, the parsing oracle, and reads its report.
enum ReportOracle {
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["trace-cmd"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Converts `source` with `trace-cmd convert` (other file versions and
    /// compressions of the same events).
    static func convert(_ source: String, to output: String, arguments: [String]) throws {
        _ = try run(["convert"] + arguments + ["-i", source, "-o", output])
    }

    /// The events of `path` as `trace-cmd report -t -R` prints them.
    static func events(path: String, instance: String?) throws -> [OracleEvent] {
        let text = try run(["report", "-t", "-R", path])
        var events: [OracleEvent] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("cpus=") { continue }
            if let event = parse(line, instance: instance) { events.append(event) }
        }
        return events
    }

    /// `[INSTANCE: ]COMM-PID [CPU] SEC.NSEC: NAME: RAW`. The instance prefix is
    /// printed for buffer instances, though not on every line; the comm may
    /// contain blanks and dashes, so the line is anchored on `[CPU]`.
    static func parse(_ line: Substring, instance: String?) -> OracleEvent? {
        var head = line
        if let instance, head.hasPrefix(instance + ":") { head = head.dropFirst(instance.count + 1) }
        guard let open = cpuBracket(in: head) else { return nil }
        let close = head[open...].firstIndex(of: "]")!
        guard let cpu = Int(head[head.index(after: open)..<close]) else { return nil }
        let task = head[head.startIndex..<open].trimmingCharacters(in: .whitespaces)
        guard let dash = task.lastIndex(of: "-"), let pid = Int32(task[task.index(after: dash)...]) else { return nil }
        let comm = String(task[task.startIndex..<dash])
        var rest = head[head.index(after: close)...].drop(while: { $0 == " " })
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        let stamp = rest[rest.startIndex..<colon]
        guard let dot = stamp.firstIndex(of: "."),
              let seconds = UInt64(stamp[stamp.startIndex..<dot]),
              let fraction = UInt64(stamp[stamp.index(after: dot)...]),
              stamp.distance(from: dot, to: stamp.endIndex) == 10
        else { return nil }
        rest = rest[rest.index(after: colon)...].drop(while: { $0 == " " })
        guard let nameEnd = rest.firstIndex(of: ":") else { return nil }
        let name = String(rest[rest.startIndex..<nameEnd])
        let raw = rest[rest.index(after: nameEnd)...].drop(while: { $0 == " " })
        return OracleEvent(
            timestamp: seconds * 1_000_000_000 + fraction, cpu: cpu, pid: pid, comm: comm, name: name, raw: raw)
    }

    /// The `[` of the first ` [digits]` in the line.
    private static func cpuBracket(in line: Substring) -> Substring.Index? {
        var index = line.startIndex
        while let open = line[index...].firstIndex(of: "[") {
            if let close = line[open...].firstIndex(of: "]"), close > line.index(after: open),
               line[line.index(after: open)..<close].allSatisfy(\.isASCIIDigitCharacter) {
                return open
            }
            index = line.index(after: open)
        }
        return nil
    }

    /// The printed value of each of `names` (the reader's fields, in format
    /// order) in a raw field list. A value runs to the next ` NAME=` of a later
    /// field, so strings with blanks are found whole; fields the reader skips
    /// (non-string arrays) stay in the preceding value's tail.
    static func rawValues(_ raw: Substring, names: [String]) -> [String: Substring] {
        var result: [String: Substring] = [:]
        var cursor = raw.startIndex
        var starts: [(String, Substring.Index, Substring.Index)] = []
        for name in names {
            let key = name + "="
            var search = cursor
            var found: Range<Substring.Index>?
            while let range = raw[search...].range(of: key) {
                if range.lowerBound == raw.startIndex || raw[raw.index(before: range.lowerBound)] == " " {
                    found = range
                    break
                }
                search = range.upperBound
            }
            guard let found else { continue }
            starts.append((name, found.lowerBound, found.upperBound))
            cursor = found.upperBound
        }
        for (i, (name, _, valueStart)) in starts.enumerated() {
            let end = i + 1 < starts.count ? starts[i + 1].1 : raw.endIndex
            var value = raw[valueStart..<end]
            if value.last == " " { value = value.dropLast() }
            result[name] = value
        }
        return result
    }

    /// Whether the reader's value is what trace-cmd printed for the field.
    /// libtraceevent prints a field with the conversion the event's print
    /// format uses for it (decimal, `0x…`, `%ps` symbol) or raw when the format
    /// computes something from it; strings may be followed by skipped fields.
    static func matches(_ value: FieldValue, printed: Substring) -> Bool {
        switch value {
        case .string(let s):
            // possibly followed by a skipped array field
            return printed == s[...] || printed.hasPrefix(s + " ")
        case .signed, .unsigned, .device:
            let text = printed.drop(while: { $0 == " " })
            guard let number = value.uint64 else { return false }
            let token = text.prefix(while: { $0 != " " })
            if token.hasPrefix("0x"), let hex = UInt64(token.dropFirst(2), radix: 16) {
                return hex == number || hex == number & 0xFFFF_FFFF
            }
            if token.hasPrefix("-"), let signed = Int64(token) { return UInt64(bitPattern: signed) == number }
            // 1-, 2- and 4-byte signed fields print the truncated value; the
            // print format may say %o (modes) or %x without 0x (i_ino).
            for radix in [10, 8, 16] {
                if let unsigned = UInt64(token, radix: radix),
                   unsigned == number || unsigned == number & 0xFFFF_FFFF {
                    return true
                }
            }
            return false
        }
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
