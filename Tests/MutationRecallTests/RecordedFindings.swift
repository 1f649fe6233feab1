import Foundation
import MutationCorpus
import Replay
import TraceIO
import WritebackModel

/// What `check` finds in a recording itself, before any edit. The
/// recordings of traces/kernels/ include kernels with real bugs (5.10 and
/// 6.1 convert after an I/O error; so does 6.12 on a device-mapper error
/// target): a twin made on such a recording still holds that bug, and may
/// report it and nothing else — a twin is judged on the findings the edit
/// added, as Plausibility judges an edit on the problems it added.
final class RecordedFindings: @unchecked Sendable {
    /// A finding without its event positions (an edit shifts them) or its
    /// verdict (a case may replay the recording under another clock).
    struct Key: Hashable, CustomStringConvertible {
        var rule: RuleID
        var dev: DeviceNumber
        var ino: UInt64
        var lblk: UInt64
        var len: UInt64

        init(_ f: Finding) {
            (rule, dev, ino, lblk, len) = (f.rule, f.dev, f.ino, f.lblk, f.len)
        }

        var description: String { "\(rule) on \(dev) ino \(ino) blocks \(lblk)+\(len)" }
    }

    private let lock = NSLock()
    private var known: [String: Set<Key>] = [:]

    /// The recording's own findings, replayed as the case is (stable writes or not).
    func keys(_ library: CorpusLibrary, trace: String, stableWrites: Bool) throws -> Set<Key> {
        let slot = "\(trace)\t\(stableWrites)"
        if let k = lock.withLock({ known[slot] }) { return k }
        let source = try library.index(trace).source
        let report = Replay.check(records: source.records, metadata: source.metadata, trace: trace,
                                  options: ReplayOptions(stableWrites: stableWrites))
        let k = Set(report.findings.map(Key.init))
        lock.withLock { known[slot] = k }
        return k
    }
}
