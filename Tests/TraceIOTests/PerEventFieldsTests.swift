import Testing
@testable import TraceIO

/// `FieldSelection.perEvent` and `TraceEvent.formatID`, on real traces read
/// through both readers.
@Suite struct PerEventFieldsTests {
    static let files = ["punch_hole.dat", "punch_hole.txt", "fsync_unwritten.dat", "fsync_unwritten.txt"]
    static let map = EventFieldMap(
        exact: ["ext4_ext_map_blocks_exit": ["lblk", "len", "no_such_field"], "ext4_sync_file_enter": ["ino"]],
        prefixes: [("block_rq_", ["sector"])])

    static func events(_ file: String, _ fields: FieldSelection) throws -> [TraceEvent] {
        let reader = try TraceFile.open(path: Samples.path(file))
        var out: [TraceEvent] = []
        try reader.forEach(ReadOptions(fields: fields, keepRawText: false)) { record in
            if case .event(let e) = record { out.append(e) }
        }
        return out
    }

    @Test(arguments: files)
    func onlyTheNamedEventsGetTheirNamedFields(_ file: String) throws {
        let all = try Self.events(file, .all)
        let some = try Self.events(file, .perEvent(Self.map))
        #expect(all.count == some.count)
        var named = 0
        for (a, s) in zip(all, some) {
            #expect(a.name == s.name && a.timestamp == s.timestamp && a.pid == s.pid)
            if let wanted = Self.map.fields(of: a.name) {
                named += 1
                #expect(s.fields.storage == a.fields.storage.filter { wanted.contains($0.name) })
                #expect(!s.fields.isEmpty)
            } else {
                #expect(s.fields.isEmpty, "\(a.name) got fields it was not asked for")
            }
        }
        #expect(named > 0)
    }

    @Test(arguments: files)
    func formatIDsNumberEventNamesOneToOne(_ file: String) throws {
        var nameOf: [Int32: String] = [:]
        var idOf: [String: Int32] = [:]
        for e in try Self.events(file, .none) {
            #expect(e.formatID >= 0)
            #expect(nameOf[e.formatID, default: e.name] == e.name, "one number, two names")
            nameOf[e.formatID] = e.name
            idOf[e.name] = e.formatID
        }
        #expect(idOf.count > 5)
        if file.hasSuffix(".dat") {
            // trace.dat: one number per name (the file's event id).
            #expect(Set(idOf.values).count == idOf.count)
        }
    }

    @Test func selectionResolvesPerEvent() {
        let selection = FieldSelection.perEvent(Self.map)
        guard case .named(let f) = selection.forEvent("block_rq_issue") else { Issue.record("prefix not matched"); return }
        #expect(f == ["sector"])
        guard case .none = selection.forEvent("sched_switch") else { Issue.record("unnamed event got fields"); return }
        guard case .all = FieldSelection.all.forEvent("anything") else { Issue.record(".all changed"); return }
    }
}
