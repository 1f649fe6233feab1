import Testing
@testable import TraceIO

/// `ViewStatistics` (counting from views, the ordered pass of `stats` with
/// the graph) counts what `TraceStatistics.add` counts from built events.
@Suite struct ViewStatisticsTests {
    static let files: [String] = Samples.pairNames.flatMap { [$0 + ".dat", $0 + ".txt"] } + ["lost-events/lost_events.dat"]

    static func reader(_ path: String) throws -> any TraceReader {
        path.hasSuffix(".dat") ? try DatReader(path: path) : try TextReader(path: path)
    }

    static func fields(_ a: TraceStatistics) -> [String] {
        [String(a.events), a.byEvent.sorted { $0.key < $1.key }.description, a.byCPU.sorted { $0.key < $1.key }.description,
         a.lostByCPU.sorted { $0.key < $1.key }.description, a.unknownLossCPUs.sorted().description,
         String(describing: a.firstTimestamp), String(describing: a.lastTimestamp),
         a.devices.sorted().description, a.inodes.sorted().description]
    }

    @Test(arguments: files)
    func viewsCountAsRecords(file: String) throws {
        let path = Samples.path(file)
        let options = ReadOptions(fields: TraceStatistics.neededFields, keepRawText: false)
        var records = TraceStatistics()
        try Self.reader(path).forEach(options) { records.add($0) }
        var views = ViewStatistics()
        try Self.reader(path).forEachView(options) { views.add($0) }
        let counted = views.finish()
        #expect(counted.events > 0)
        #expect(Self.fields(counted) == Self.fields(records))
    }

    /// A view pass that skips the device fields finds no devices: the counts
    /// come from the fields read, not from anywhere else.
    @Test func withoutDeviceFieldsNoDevices() throws {
        let path = Samples.path("fsync_unwritten.dat")
        var views = ViewStatistics()
        try DatReader(path: path).forEachView(ReadOptions(fields: .named(["ino"]), keepRawText: false)) { views.add($0) }
        let counted = views.finish()
        #expect(counted.events > 0)
        #expect(counted.devices.isEmpty)
        #expect(counted.inodes.isEmpty)
    }
}
