import MutationCorpus
import Replay
import TraceIO
import WritebackModel

/// Compares what `check` said with what a case's construction guarantees.
/// Every problem is one line, prefixed `bug:` or `twin:`.
enum RecallJudge {
    /// `recorded`: the findings of the recording itself, which a twin keeps.
    static func problems(_ c: MutationCase, bug: CheckReport, twin: CheckReport,
                         recorded: Set<RecordedFindings.Key>) -> [String] {
        problems(c.expected, bug) + twinProblems(twin, recorded: recorded)
    }

    static func problems(_ e: ExpectedFinding, _ report: CheckReport) -> [String] {
        let rule = RuleID(rawValue: e.rule.rawValue)
        let matching = report.findings.filter { f in
            f.rule == rule && f.dev == e.dev && f.ino == e.ino
                && (e.generation.map { $0 == f.generation } ?? true)
                && f.lblk < e.blocks.upperBound && f.lblk + max(f.len, 1) > e.blocks.lowerBound
        }
        guard !matching.isEmpty else {
            return ["bug: no \(e.rule) finding on \(e.dev) ino \(e.ino) blocks \(e.blocks.lowerBound)..<\(e.blocks.upperBound); check said: \(summary(report))"]
        }
        switch e.verdict {
        case .violated:
            guard matching.contains(where: { $0.verdict == .violated }) else {
                let f = matching[0]
                return ["bug: expected violated (\(e.ordering)), got \(f.verdict): \(f.inconclusiveReason ?? "no reason")"]
            }
        case .inconclusive:
            let inconclusive = matching.filter { $0.verdict == .inconclusive }
            guard let f = inconclusive.first else {
                return ["bug: expected inconclusive (unordered pair under clock \(report.clock ?? "unknown")), got violated"]
            }
            let reason = f.inconclusiveReason ?? ""
            let named = [e.first, e.second].filter { !names(reason, $0) }
            if !named.isEmpty {
                return ["bug: inconclusive, but the reason does not name \(named.map(\.description).joined(separator: " nor ")): \"\(reason)\""]
            }
        }
        return []
    }

    /// A twin gives no finding but those of the recording itself (a real
    /// bug of the recorded kernel). It need not keep them: an edit may end
    /// the recording early (an evicted inode the recording goes on using).
    static func twinProblems(_ report: CheckReport, recorded: Set<RecordedFindings.Key>) -> [String] {
        let added = report.findings.filter { !recorded.contains(RecordedFindings.Key($0)) }
        guard !added.isEmpty else { return [] }
        let violated = added.filter { $0.verdict == .violated }.count
        return ["twin: \(added.count) finding(s) the recording does not have\(violated > 0 ? ", \(violated) violated" : ""): \(summary(report))"]
    }

    /// Whether `reason` names the step: one of its event indices as a
    /// number of its own, or one of its event names.
    static func names(_ reason: String, _ d: DecidingEvent) -> Bool {
        let tokens = Set(reason.split { !($0.isNumber || $0.isLetter || $0 == "_") }.map(String.init))
        return d.identifiers.contains { tokens.contains(String($0.index)) || tokens.contains($0.name) }
    }

    static func summary(_ r: CheckReport) -> String {
        guard !r.findings.isEmpty else { return "no findings (profile \(r.choice.profile), \(r.divergenceCount) divergences)" }
        return r.findings.prefix(4).map { f in
            "\(f.rule) \(f.verdict) ino \(f.ino) blocks \(f.lblk)+\(f.len) at #\(f.eventIndex)"
                + (f.inconclusiveReason.map { " (\($0))" } ?? "")
        }.joined(separator: "; ") + (r.findings.count > 4 ? "; … \(r.findings.count) in all" : "")
            + " [profile \(r.choice.profile)]"
    }
}
