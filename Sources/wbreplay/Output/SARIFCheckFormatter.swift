import Foundation
import Replay
import WritebackModel

/// `check --format sarif`: SARIF 2.1.0 for code-scanning tools. One rule
/// per model rule (id, summary, help), one result per finding (error when
/// violated, warning when inconclusive), the trace as the run's one artifact,
/// and the witness as a code flow with one thread flow per actor (task,
/// kworker, irq) whose steps carry their order in the witness
/// (`executionOrder`) and the event's index, time and CPU.
struct SARIFCheckFormatter: OutputFormatter {
    var tool: String?

    static let schemaURI = "https://json.schemastore.org/sarif-2.1.0.json"

    func write(_ r: CheckReport, to out: OutputStream) {
        let rules = RuleID.allCases
        let doc: [String: Any] = [
            "$schema": Self.schemaURI,
            "version": "2.1.0",
            "runs": [[
                "tool": ["driver": driver(rules)],
                "artifacts": [artifact(r.trace)],
                "results": r.findings.map { result($0, ruleIndex: rules.firstIndex(of: $0.rule) ?? 0, trace: r.trace) },
                "properties": [
                    "schema_version": Schema.version,
                    "profile": r.choice.profile.rawValue,
                    "profile_reason": r.choice.reason,
                    "events": r.events,
                    "lost_events": r.lostEvents,
                    "divergences": r.divergenceCount,
                    "clock": r.clock ?? NSNull(),
                ] as [String: Any],
            ] as [String: Any]],
        ]
        // Only plain strings, numbers, arrays and dictionaries: serialising cannot fail.
        if let data = try? JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) {
            out.write(data)
            out.write(byte: 0x0A)
        }
    }

    private func driver(_ rules: [RuleID]) -> [String: Any] {
        var d: [String: Any] = [
            "name": "wbreplay",
            "fullName": "wbreplay: ext4 writeback ordering checker",
            "rules": rules.map { rule in
                [
                    "id": rule.rawValue,
                    "name": rule.rawValue.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(),
                    "shortDescription": ["text": RuleHelp.summary(rule)],
                    "fullDescription": ["text": RuleHelp.help(rule)],
                    "help": ["text": RuleHelp.help(rule),
                             "markdown": "**\(rule.rawValue)**: \(RuleHelp.help(rule))\n\nSee `wbreplay why --event INDEX` for the causal chain of a witness event."],
                    "defaultConfiguration": ["level": "error"],
                ] as [String: Any]
            },
        ]
        if let tool { d["version"] = tool }
        return d
    }

    private func artifact(_ trace: String) -> [String: Any] {
        var a: [String: Any] = ["location": ["uri": uri(trace)], "roles": ["analysisTarget"]]
        if let size = (try? FileManager.default.attributesOfItem(atPath: trace))?[.size] as? Int { a["length"] = size }
        return a
    }

    /// A relative path stays relative (SARIF resolves it against the
    /// working directory); characters URIs reserve are escaped.
    private func uri(_ path: String) -> String {
        path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
    }

    private func result(_ f: Finding, ruleIndex: Int, trace: String) -> [String: Any] {
        let object = "\(f.dev):\(f.ino)" + (f.generation > 0 ? "#\(f.generation)" : "")
        let blocks = f.len == 0 ? "block \(f.lblk)" : "blocks \(f.lblk)-\(f.lblk + f.len - 1)"
        var message = "\(f.verdict == .violated ? "Violated" : "Inconclusive"): \(f.explanation)"
        if let why = f.inconclusiveReason { message += " Inconclusive: \(why)." }
        var result: [String: Any] = [
            "ruleId": f.rule.rawValue,
            "ruleIndex": ruleIndex,
            "level": f.verdict == .violated ? "error" : "warning",
            "message": ["text": message],
            "locations": [location(trace, event: f.eventIndex, name: "\(object) \(blocks)",
                                   message: "inode \(object), \(blocks), event \(f.eventIndex)")],
            "partialFingerprints": ["wbreplay/finding": "\(f.rule.rawValue):\(object):\(f.lblk)+\(f.len)"],
            "properties": [
                "verdict": f.verdict.rawValue, "dev": f.dev.description, "ino": f.ino, "generation": f.generation,
                "lblk": f.lblk, "len": f.len, "ts_ns": f.timestamp, "event": f.eventIndex,
            ] as [String: Any],
        ]
        if !f.witness.isEmpty {
            result["codeFlows"] = [[
                "message": ["text": "the causal witness: \(f.witness.count) events on \(f.actors.count) actor(s)"],
                "threadFlows": f.actors.indices.compactMap { actor -> [String: Any]? in
                    let steps = f.witness.enumerated().filter { $0.element.actor == actor }
                    guard !steps.isEmpty else { return nil }
                    return [
                        "id": f.actors[actor].name,
                        "message": ["text": "\(f.actors[actor].kind.rawValue) \(f.actors[actor].name)"],
                        "locations": steps.map { order, w in
                            [
                                "executionOrder": order + 1,
                                "importance": w.index == f.eventIndex ? "essential" : "important",
                                "location": location(trace, event: w.index, name: w.name,
                                                     message: "#\(w.index) \(seconds(w.timestamp)) s cpu \(w.cpu) \(w.name): \(w.role)"),
                                "properties": ["event": w.index, "ts_ns": w.timestamp, "cpu": w.cpu, "pid": w.pid] as [String: Any],
                            ] as [String: Any]
                        },
                    ]
                },
            ]]
        }
        return result
    }

    /// A place in a trace: the file, and the event as a logical location
    /// (a trace has no lines to point at).
    private func location(_ trace: String, event: Int, name: String, message: String) -> [String: Any] {
        [
            "physicalLocation": ["artifactLocation": ["uri": uri(trace), "index": 0]],
            "logicalLocations": [["name": name, "fullyQualifiedName": "event \(event): \(name)", "kind": "object"]],
            "message": ["text": message],
        ]
    }
}
