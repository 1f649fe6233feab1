import Foundation
import Testing
@testable import TraceIO

/// The trace.dat reader against `trace-cmd report -t -R` over one whole file:
/// same events in the same order with the same timestamp, CPU, pid, task and
/// name, and every decoded field equal to what libtraceevent prints for it.
enum DatConformance {
    static func assertConforms(path: String) throws {
        let reader = try DatReader(path: path)
        let oracle = try ReportOracle.events(path: path, instance: reader.metadata.instance)
        var events: [TraceEvent] = []
        try reader.forEach(ReadOptions()) { record in
            if case .event(let event) = record { events.append(event) }
        }
        #expect(!events.isEmpty, "\(path): no events read")
        #expect(events.count == oracle.count, "\(path): \(events.count) events, trace-cmd report has \(oracle.count)")
        var mismatches = 0
        var fieldsCompared = 0
        for (mine, theirs) in zip(events, oracle) where mismatches < 10 {
            let same = mine.timestamp == theirs.timestamp && mine.cpu == theirs.cpu && mine.pid == theirs.pid
                && mine.name == theirs.name && mine.comm == theirs.comm
            if !same {
                mismatches += 1
                Issue.record("\(path): \(mine.timestamp) [\(mine.cpu)] \(mine.comm)-\(mine.pid) \(mine.name) vs report \(theirs.timestamp) [\(theirs.cpu)] \(theirs.comm)-\(theirs.pid) \(theirs.name)")
                continue
            }
            let printed = ReportOracle.rawValues(theirs.raw, names: mine.fields.map(\.name))
            for field in mine.fields {
                fieldsCompared += 1
                guard let text = printed[field.name] else {
                    mismatches += 1
                    Issue.record("\(path): \(mine.name)@\(mine.timestamp): field \(field.name) not printed by trace-cmd: \(theirs.raw)")
                    continue
                }
                if !ReportOracle.matches(field.value, printed: text) {
                    mismatches += 1
                    Issue.record("\(path): \(mine.name)@\(mine.timestamp): \(field.name) = \(field.value), trace-cmd printed \(text)")
                }
            }
        }
        #expect(mismatches == 0)
        #expect(fieldsCompared >= events.count, "\(path): too few fields compared (\(fieldsCompared))")
    }
}
