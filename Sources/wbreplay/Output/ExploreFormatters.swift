import Explore
import Foundation
import WritebackModel

/// `explore --format text`: the search's numbers, then per rule broken the
/// violation and its schedule, one column per actor.
struct TextExploreFormatter: OutputFormatter {
    func write(_ r: ExploreReport, to out: OutputStream) {
        let x = r.result
        out.write("scenario \(x.scenario) under \(x.profile), bound \(x.bound.depth): \(r.scenario.summary)\n")
        out.write("explored \(x.states) states, \(x.transitions) transitions (\(x.prunedBySleepSets) skipped by sleep sets), ")
        out.write("depth \(x.depthReached), \(Self.fixed(x.seconds, 3)) s, \(Int(x.statesPerSecond.rounded())) states/s\n")
        if x.counterexamples.isEmpty {
            out.write(x.truncated ? "no violation within the bound (the bound cut the search)\n" : "no violation: every interleaving explored\n")
        }
        for c in x.counterexamples {
            out.write("\nviolation \(c.rule): \(c.violation.detail)\n")
            out.write("shortest schedule: \(c.steps.count) steps after a \(c.setup.count)-step set-up; ")
            out.write("found after \(Self.fixed(c.foundAfterSeconds, 3)) s (\(c.statesWhenFound) states)\n\n")
            diagram(ColumnDiagram(c, scenario: r.scenario), out)
        }
        if let path = r.tracePath { out.write("\ncounterexample trace written to \(path)\n") }
    }

    private func diagram(_ d: ColumnDiagram, _ out: OutputStream) {
        var widths = d.columns.map(\.count)
        for row in d.rows { widths[row.column] = max(widths[row.column], row.text.count) }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: " | ")
        }
        out.write("    " + line(d.columns) + "\n")
        out.write("    " + widths.map { String(repeating: "-", count: $0) }.joined(separator: "-+-") + "\n")
        var inSetup = d.rows.first?.isSetup ?? false
        for row in d.rows {
            if inSetup && !row.isSetup {
                out.write("    " + widths.map { String(repeating: ".", count: $0) }.joined(separator: " . ") + "  (search starts)\n")
                inSetup = false
            }
            var cells = Array(repeating: "", count: d.columns.count)
            cells[row.column] = row.text
            var text = "    " + line(cells)
            while text.last == " " { text.removeLast() }
            if !row.broke.isEmpty { text += "   <-- " + Set(row.broke).map(\.rawValue).sorted().joined(separator: ", ") }
            out.write(text + "\n")
        }
    }

    static func fixed(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }
}

/// `explore --format json`: one object; numbers as numbers, steps by actor.
struct JSONExploreFormatter: OutputFormatter {
    struct Doc: Encodable {
        var schema_version = Schema.version
        var scenario: String
        var profile: String
        var bound: Int
        var states: Int
        var transitions: Int
        var skipped_by_sleep_sets: Int
        var depth: Int
        var truncated: Bool
        var seconds: Double
        var states_per_second: Double
        var violations: [Violation]
        var trace: String?
    }
    struct Violation: Encodable {
        var rule: String
        var detail: String
        var setup_steps: Int
        var found_after_seconds: Double
        var states_when_found: Int
        var steps: [StepDoc]
    }
    struct StepDoc: Encodable {
        var actor: String
        var function: String
        var setup: Bool
        var broke: [String]
    }

    func write(_ r: ExploreReport, to out: OutputStream) {
        let x = r.result
        let violations = x.counterexamples.map { c in
            let d = ColumnDiagram(c, scenario: r.scenario)
            return Violation(rule: c.rule.rawValue, detail: c.violation.detail, setup_steps: c.setup.count,
                             found_after_seconds: c.foundAfterSeconds, states_when_found: c.statesWhenFound,
                             steps: d.rows.map { StepDoc(actor: d.columns[$0.column], function: $0.text, setup: $0.isSetup,
                                                          broke: $0.broke.map(\.rawValue)) })
        }
        let doc = Doc(scenario: x.scenario, profile: x.profile.rawValue, bound: x.bound.depth, states: x.states,
                      transitions: x.transitions, skipped_by_sleep_sets: x.prunedBySleepSets, depth: x.depthReached,
                      truncated: x.truncated, seconds: x.seconds, states_per_second: x.statesPerSecond,
                      violations: violations, trace: r.tracePath)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if let data = try? encoder.encode(doc) {
            out.write(data)
            out.write("\n")
        }
    }
}

/// `explore --list`: name, rule, profiles, summary.
struct TextScenarioListFormatter: OutputFormatter {
    func write(_ all: [Scenario], to out: OutputStream) {
        for s in all {
            out.write("\(s.name)\n    \(s.summary)\n    rule \(s.rule); bug in \(s.bugProfiles.map(\.rawValue).joined(separator: ", "))")
            out.write("; fixed in \(s.fixedProfiles.map(\.rawValue).joined(separator: ", ")); bound \(s.defaultBound)\n    from \(s.source)\n")
        }
    }
}
