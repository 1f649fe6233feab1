import KernelEvents
import Testing
import TraceIO
@testable import EventGraph

/// `stats`' graph figures counted as the trace streams (`GraphSummaryCounter`)
/// are the whole graph's (`EventGraph.summary`) on the real traces.
@Suite struct GraphSummaryCounterTests {
    static let cases: [(String, String)] = Samples.names.flatMap { n in Samples.formats.map { (n, $0) } }

    static func counted(_ path: String, dropLast: Int = 0) throws -> GraphSummary {
        let reader = try Samples.reader(path)
        var views: [TraceRecord] = []
        try reader.forEach(ReadOptions(fields: .named(KernelEventDecoder.fieldsUsed), keepRawText: false)) { views.append($0) }
        var counter = GraphSummaryCounter(metadata: reader.metadata)
        for r in views.dropLast(dropLast) { counter.add(r) }
        return counter.finish()
    }

    static func same(_ a: GraphSummary, _ b: GraphSummary) -> Bool {
        a.events == b.events && a.objects == b.objects && a.edges == b.edges && a.unlinked == b.unlinked
            && a.geometries == b.geometries && a.diagnostics == b.diagnostics
    }

    @Test(arguments: cases)
    func countedSummaryIsTheWholeGraphs(name: String, ext: String) throws {
        let whole = try Samples.graph(name, ext).summary
        let counted = try Self.counted(Samples.path(name, ext))
        #expect(counted.events == whole.events)
        #expect(counted.objects == whole.objects)
        #expect(counted.edges == whole.edges)
        #expect(counted.unlinked == whole.unlinked)
        #expect(counted.geometries == whole.geometries)
        #expect(counted.diagnostics == whole.diagnostics)
        #expect(whole.edges.values.reduce(0, +) > 0)
    }

    /// The counter reads the views the reader hands over (`stats`' pass) as it reads built events.
    @Test func viewsCountAsEvents() throws {
        let path = Samples.path("fsync_unwritten", "dat")
        let reader = try Samples.reader(path)
        var counter = GraphSummaryCounter(metadata: reader.metadata)
        try reader.forEachView(ReadOptions(fields: .named(KernelEventDecoder.fieldsUsed), keepRawText: false)) { counter.add(view: $0) }
        #expect(Self.same(counter.finish(), try Self.counted(path)))
    }

    /// One event fewer is a different count: the comparison can fail.
    @Test func aShorterStreamCountsDifferently() throws {
        let path = Samples.path("fsync_unwritten", "dat")
        let whole = try Samples.graph("fsync_unwritten").summary
        #expect(!Self.same(try Self.counted(path, dropLast: 1), whole))
    }
}
