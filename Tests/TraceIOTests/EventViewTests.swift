import Testing
@testable import TraceIO

/// `TraceReader.forEachView`: a view reads the same fields, by index or by
/// name, as the event it builds; its layout numbers one format of one pass.
@Suite struct EventViewTests {
    static let files = Samples.pairNames.flatMap { [$0 + ".dat", $0 + ".txt"] }

    @Test(arguments: files)
    func viewFieldsAreTheBuiltEventsFields(_ file: String) throws {
        let reader = try TraceFile.open(path: Samples.path(file))
        var layoutOf: [Int32: Int] = [:]
        var events = 0
        var fields = 0
        try reader.forEachView(ReadOptions(fields: .all, keepRawText: false)) { record in
            guard case .event(let view) = record else { return }
            events += 1
            let event = view.event()
            #expect(view.timestamp == event.timestamp && view.cpu == event.cpu && view.pid == event.pid)
            #expect(view.formatID == event.formatID && view.name == event.name && view.comm == event.comm)
            for field in event.fields {
                fields += 1
                let index = try #require(view.fieldIndex(field.name), "\(event.name).\(field.name)")
                #expect(view.value(at: index) == field.value, "\(event.name).\(field.name)")
                #expect(view.value(named: field.name) == field.value, "\(event.name).\(field.name)")
            }
            #expect(view.fieldIndex("no_such_field") == nil)
            #expect(view.value(named: "no_such_field") == nil)
            #expect(view.value(at: -1) == nil && view.value(at: 1 << 20) == nil)
            if file.hasSuffix(".dat") {
                let layout = try #require(view.layout, "a trace.dat view has a layout")
                #expect(layoutOf[view.formatID, default: layout] == layout, "one format, two layouts in one pass")
                layoutOf[view.formatID] = layout
            } else {
                #expect(view.layout == nil, "text events have no fixed layout")
            }
        }
        #expect(events > 0 && fields > 0)
        if file.hasSuffix(".dat") {
            #expect(Set(layoutOf.values).count == layoutOf.count, "two formats, one layout")
        }
    }

    /// A second pass builds its formats anew: its layouts are new numbers, so
    /// nothing cached under the first pass's layouts applies to it.
    @Test func eachPassHasItsOwnLayouts() throws {
        let reader = try DatReader(path: Samples.path("punch_hole.dat"))
        func layouts() throws -> Set<Int> {
            var seen: Set<Int> = []
            try reader.forEachView(ReadOptions(fields: .none)) { record in
                if case .event(let view) = record, let layout = view.layout { seen.insert(layout) }
            }
            return seen
        }
        let first = try layouts()
        let second = try layouts()
        #expect(!first.isEmpty && !second.isEmpty)
        #expect(first.isDisjoint(with: second))
    }

    /// `FormatCache` by view: by layout when stored for it, else by name.
    @Test func formatCacheByViewChecksTheName() {
        var cache = FormatCache<Int>()
        var a = TraceEvent(timestamp: 1, cpu: 0, pid: 1, comm: "t", name: "a")
        a.formatID = 3
        var b = a
        b.name = "b"
        cache.store(7, for: EventView(a))
        #expect(cache.value(for: EventView(a)) == 7)
        #expect(cache.value(for: EventView(b)) == nil)
        #expect(cache.value(for: a) == 7)
    }
}
