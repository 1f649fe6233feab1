import Foundation

/// One event line of `trace-cmd report -t`, the oracle for parsing.
struct OracleEvent: Equatable, CustomStringConvertible {
    var timestamp: UInt64
    var cpu: Int
    var pid: Int32
    var name: String

    var description: String { "\(timestamp) cpu\(cpu) pid \(pid) \(name)" }
}

/// Parses `trace-cmd report -t` output: `[INSTANCE:] COMM-PID [CPU] SECS.NANOS: NAME: FIELDS`.
/// The comm may contain spaces and dashes: the pid is the digits after the
/// last dash before ` [CPU]`.
enum ReportOracle {
    static func report(_ path: String) throws -> [OracleEvent] {
        let r = try CLI.run(executable: URL(fileURLWithPath: "/usr/bin/trace-cmd"), ["report", "-t", path])
        guard r.status == 0 else { throw OracleError(message: "trace-cmd report failed: \(r.stderr)") }
        return parse(r.stdoutText)
    }

    static func parse(_ text: String) -> [OracleEvent] {
        var events: [OracleEvent] = []
        for line in text.split(separator: "\n") {
            if let event = parseLine(line) { events.append(event) }
        }
        return events
    }

    static func parseLine(_ line: Substring) -> OracleEvent? {
        // Find " [ddd] " — the CPU column.
        let bytes = Array(line.utf8)
        var i = 0
        var cpuStart = -1
        while i + 2 < bytes.count {
            if bytes[i] == UInt8(ascii: "["), i > 0, bytes[i - 1] == UInt8(ascii: " ") {
                var j = i + 1
                while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39 { j += 1 }
                if j > i + 1, j < bytes.count, bytes[j] == UInt8(ascii: "]") { cpuStart = i; break }
            }
            i += 1
        }
        guard cpuStart > 0 else { return nil }
        let head = String(decoding: bytes[0..<cpuStart], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        guard let dash = head.lastIndex(of: "-"), let pid = Int32(head[head.index(after: dash)...]) else { return nil }
        let close = bytes[cpuStart...].firstIndex(of: UInt8(ascii: "]"))!
        guard let cpu = Int(String(decoding: bytes[(cpuStart + 1)..<close], as: UTF8.self)) else { return nil }
        let rest = String(decoding: bytes[(close + 1)...], as: UTF8.self).drop(while: { $0 == " " })
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        let ts = rest[rest.startIndex..<colon]
        guard let dot = ts.firstIndex(of: "."), let secs = UInt64(ts[ts.startIndex..<dot]) else { return nil }
        let fracText = ts[ts.index(after: dot)...]
        guard let frac = UInt64(fracText), fracText.count <= 9 else { return nil }
        var scale: UInt64 = 1
        for _ in 0..<(9 - fracText.count) { scale *= 10 }
        let afterTs = rest[rest.index(after: colon)...].drop(while: { $0 == " " })
        guard let nameEnd = afterTs.firstIndex(of: ":") else { return nil }
        return OracleEvent(
            timestamp: secs * 1_000_000_000 + frac * scale, cpu: cpu, pid: pid,
            name: String(afterTs[afterTs.startIndex..<nameEnd]))
    }
}

struct OracleError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// One line of `wbreplay events --format jsonl`.
struct JSONLEvent {
    var timestamp: UInt64
    var cpu: Int
    var pid: Int32
    var comm: String
    var name: String
    var fields: [String: Any]

    static func parse(_ data: Data) throws -> [JSONLEvent] {
        var events: [JSONLEvent] = []
        for line in data.split(separator: UInt8(ascii: "\n")) {
            let object = try JSONSerialization.jsonObject(with: line) as! [String: Any]
            guard let ts = object["ts_ns"] as? NSNumber, let name = object["event"] as? String else {
                continue // a lost-events line
            }
            events.append(JSONLEvent(
                timestamp: ts.uint64Value,
                cpu: (object["cpu"] as! NSNumber).intValue,
                pid: (object["pid"] as! NSNumber).int32Value,
                comm: object["comm"] as! String,
                name: name,
                fields: object["fields"] as? [String: Any] ?? [:]))
        }
        return events
    }

    var oracleView: OracleEvent { OracleEvent(timestamp: timestamp, cpu: cpu, pid: pid, name: name) }
}
