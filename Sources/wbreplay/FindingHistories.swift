import Replay
import TraceIO

/// The state histories the HTML report shows next to each finding: one more
/// replay per inode that has a finding, under the profile `check` chose
/// (`ReplayOptions.historyIno` records one inode number's objects).
enum FindingHistories {
    static func replay(_ reader: some TraceReader, report: CheckReport, options: ReplayOptions) throws -> [UInt64: [ObjectHistory]] {
        var out: [UInt64: [ObjectHistory]] = [:]
        for ino in Set(report.findings.map(\.ino)).sorted() {
            var o = options
            o.profile = report.choice.profile
            o.historyIno = ino
            out[ino] = try Replay.check(reader, options: o).histories
        }
        return out
    }

    /// The objects worth showing beside a finding: those a witness event
    /// changed, then the inode and its block ranges, of the finding's
    /// generation; each history cut after the finding's event.
    static func relevant(_ all: [ObjectHistory], to f: Finding, limit: Int = 24) -> (shown: [ObjectHistory], omitted: Int) {
        let witness = Set(f.witness.map(\.index))
        let last = max(f.eventIndex, f.witness.map(\.index).max() ?? 0)
        let mine = all.filter { $0.generation == f.generation }
        let touched = mine.filter { h in h.changes.contains { witness.contains($0.eventIndex) } }
        let context = mine.filter { h in
            (h.object == "inode" || h.object.hasPrefix("blocks ")) && !touched.contains(h)
        }
        let chosen = (touched + context).map { h -> ObjectHistory in
            var cut = h
            cut.changes = h.changes.filter { $0.eventIndex <= last }
            return cut
        }.filter { !$0.changes.isEmpty }
        return (Array(chosen.prefix(limit)), max(0, chosen.count - limit) + (mine.count - touched.count - context.count))
    }
}
