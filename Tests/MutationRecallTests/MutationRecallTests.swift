import Foundation
import MutationCorpus
import Replay
import Testing
import TraceIO

/// Recall over the mutation corpus: every bug injected into every trace of
/// traces/ is found with the right rule, device, inode, blocks and verdict,
/// and no twin (the same edit made legal) is flagged. A trace that cannot
/// host a case skips it with the reason, listed in ExpectedSkips.
@Suite struct MutationRecallTests {
    static let library = CorpusLibrary(root: Corpus.tracesRoot, skipping: Corpus.skippedFolders)
    static let recorded = RecordedFindings()

    @Test(arguments: Corpus.selected(library.caseIDs))
    func recall(_ id: CaseID) throws {
        if let why = Corpus.debugSkip(id) { try Test.cancel(Comment(rawValue: why)) }
        let c: MutationCase
        switch try Self.library.make(id) {
        case .skipped(let why):
            guard ExpectedSkips.reason(id, skipped: why) != nil else {
                Issue.record(Comment(rawValue: "\(id) cannot be hosted, and ExpectedSkips does not say why: \(why)"))
                return
            }
            try Test.cancel(Comment(rawValue: "\(id.trace) cannot host \(id.rule) (\(id.ordering)): \(why)"))
        case .built(let built):
            if let d = ExpectedSkips.byDesign(id) {
                Issue.record(Comment(rawValue: "\(id) is built, though \(d)"))
            }
            c = built
        }
        for (part, t) in [("bug", c.bug), ("twin", c.twin)] {
            for p in Plausibility.problems(t, beyond: try Self.library.recordedProblems(id.trace)) {
                Issue.record(Comment(rawValue: "\(part) trace implausible: \(p)"))
            }
        }
        let bug = Replay.check(records: c.bug.records, metadata: c.bug.metadata, trace: id.trace,
                               options: ReplayOptions(stableWrites: c.bug.stableWrites))
        let twin = Replay.check(records: c.twin.records, metadata: c.twin.metadata, trace: id.trace,
                                options: ReplayOptions(stableWrites: c.twin.stableWrites))
        let recorded = try Self.recorded.keys(Self.library, trace: id.trace, stableWrites: c.twin.stableWrites)
        for p in RecallJudge.problems(c, bug: bug, twin: twin, recorded: recorded) {
            Issue.record(Comment(rawValue: "\(p)\n  case: \(c.expected)\n  injected: \(c.story)"))
        }
    }
}

enum Corpus {
    /// traces/ of this checkout.
    static let tracesRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("traces").path

    /// The other kernels' recordings (traces/kernels/) join the corpus only
    /// with MUTATION_TRACES=all: a debug build takes hours over all of them.
    /// Some hold real bugs of those kernels (5.10 and 6.1 convert after an
    /// I/O error): their twins report exactly those (RecordedFindings).
    static let skippedFolders: Set<String> =
        ProcessInfo.processInfo.environment["MUTATION_TRACES"] == "all" ? [] : ["kernels"]

    /// `MUTATION_CORPUS_FILTER=text` keeps only the case ids containing it
    /// (a test filter does not reach a parameterized test's arguments).
    /// Then `MUTATION_CASES=all` keeps every case; by default one ordering
    /// per (trace, rule), taken in turn along the traces so that every
    /// ordering and clock of every rule runs on some recordings.
    static func selected(_ ids: [CaseID]) -> [CaseID] {
        let env = ProcessInfo.processInfo.environment
        let kept = env["MUTATION_CORPUS_FILTER"].map { f in ids.filter { $0.description.contains(f) } } ?? ids
        return env["MUTATION_CASES"] == "all" ? kept : sample(kept)
    }

    /// One case per (trace, rule): of the orderings the rule can have, the
    /// one at (trace's position + rule's position) modulo their number.
    static func sample(_ ids: [CaseID]) -> [CaseID] {
        var traces: [String: Int] = [:]
        for id in ids where traces[id.trace] == nil { traces[id.trace] = traces.count }
        let rules = InjectedRule.allCases
        var groups: [String: [CaseID]] = [:]
        var order: [String] = []
        for id in ids where ExpectedSkips.byDesign(id) == nil {
            let key = id.trace + "\t" + id.rule.rawValue
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(id)
        }
        return order.map { key in
            let group = groups[key]!
            let k = traces[group[0].trace]! + rules.firstIndex(of: group[0].rule)!
            return group[k % group.count]
        }
    }

    /// A debug build replays an event in ~150 µs (a release build in ~1 µs):
    /// there only the smallest recordings (by file size) run unless MUTATION_RECALL=all.
    static let debugSizeLimit = 400_000

    static func debugSkip(_ id: CaseID) -> String? {
        #if DEBUG
        guard ProcessInfo.processInfo.environment["MUTATION_RECALL"] != "all" else { return nil }
        let size = (try? FileManager.default.attributesOfItem(atPath: tracesRoot + "/" + id.trace)[.size] as? Int) ?? 0
        guard size > debugSizeLimit else { return nil }
        return "debug build: \(id.trace) (\(size / 1000) kB) is replayed only in release builds; run the whole corpus with `swift test -c release --filter MutationRecallTests` (or MUTATION_RECALL=all)"
        #else
        return nil
        #endif
    }
}
