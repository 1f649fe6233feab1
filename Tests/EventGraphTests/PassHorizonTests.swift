import Foundation
import Testing
import TraceIO
@testable import EventGraph

/// A later pass of `why` stops at the last event at which the first pass
/// found an edge it needs (`PassHorizon`): what it keeps is then what a pass
/// over the whole trace keeps — every kept event's edges, anchors and names
/// — on the samples, the lost-events trace and every lab kernel's
/// conversions; stopping at the windows' end instead loses edges found later.
@Suite struct PassHorizonTests {
    static let kernels = Samples.tracesDir.appendingPathComponent("kernels")

    /// Samples, the trace that lost events, and each lab kernel's fsync into
    /// unwritten space (its completions' edges into conversion work are found
    /// when the work converts, after the events they link).
    static var traces: [String] {
        let lab = ((try? FileManager.default.contentsOfDirectory(atPath: kernels.path)) ?? []).sorted()
            .map { kernels.appendingPathComponent($0 + "/default/fsync_unwritten.dat").path }
            .filter { FileManager.default.fileExists(atPath: $0) }
        return Samples.names.map { Samples.path($0, "dat") } + [Samples.path("lost-events/lost_events", "dat")] + lab
    }

    static func pass(_ path: String, windows: [Range<Int>], whole: WholeTraceFacts?) throws -> CausalChainPass {
        let reader = try DatReader(path: path)
        var pass = CausalChainPass(windows: windows, metadata: reader.metadata, whole: whole)
        _ = try RecordPipeline.run(reader, options: GraphDecoding.options, transform: pass.decoding) { pass.add(input: $0) }
        return pass
    }

    /// Windows of `width` events ending at a quarter, half and three quarters of the trace.
    static func windows(events: Int, width: Int) -> [Range<Int>] {
        StreamedCausalChain.merged([events / 4, events / 2, 3 * events / 4].map { max(0, $0 - width)..<$0 }.filter { !$0.isEmpty })
    }

    /// Whether two passes kept `i` alike: its event, task chain, anchor and edges in.
    static func same(_ i: Int, _ a: CausalChainPass, _ b: CausalChainPass) -> Bool {
        guard let x = a.causeNode(i), let y = b.causeNode(i) else { return false }
        return x.node == y.node && x.chain == y.chain && x.position == y.position
            && x.anchor?.index == y.anchor?.index && x.anchor?.position == y.anchor?.position
            && x.anchorUnknown == y.anchorUnknown && x.incoming == y.incoming
            && x.causeChains == y.causeChains && x.edgeSequence == y.edgeSequence
    }

    @Test(arguments: traces)
    func aPassStoppedAtTheHorizonKeepsWhatAWholePassKeeps(path: String) throws {
        let probe = try Self.pass(path, windows: [], whole: nil)
        let facts = probe.wholeTraceFacts
        let windows = Self.windows(events: facts.events, width: 1024)
        try #require(!windows.isEmpty, "\(path): too few events")
        let whole = try Self.pass(path, windows: windows, whole: nil)
        let stopped = try Self.pass(path, windows: windows, whole: facts)
        let through = try #require(stopped.through)
        #expect(through >= windows.last!.upperBound - 1)
        #expect(stopped.events == through + 1)
        for i in windows.joined() { #expect(Self.same(i, whole, stopped), "\(path): event \(i)") }
    }

    /// The horizon is not the windows' end: in the lab kernels' conversions
    /// edges into a window, or ones that move its anchors, are found after
    /// it, and a pass that stopped at the window's end would miss them.
    @Test func stoppingAtTheWindowsEndLosesLateEdges() throws {
        var late = 0
        for path in Self.traces where path.hasPrefix(Self.kernels.path) {
            let facts = try Self.pass(path, windows: [], whole: nil).wholeTraceFacts
            for end in stride(from: 2048, to: facts.events, by: max(1, facts.events / 8)) {
                let windows = [(end - 2048)..<end]
                guard facts.horizon.lastEventNeeded(keepingBefore: end) > end - 1 else { continue }
                let early = WholeTraceFacts(events: facts.events, backwardEdges: facts.backwardEdges,
                                            comms: facts.comms, horizon: PassHorizon())
                let whole = try Self.pass(path, windows: windows, whole: nil)
                let cut = try Self.pass(path, windows: windows, whole: early)
                #expect(cut.through == end - 1)
                if windows[0].contains(where: { !Self.same($0, whole, cut) }) {
                    late += 1
                    break
                }
            }
        }
        #expect(late > 0)
    }

    @Test func horizonIsTheLastEdgeIntoTheEventsUpToTheEnd() {
        var h = PassHorizon()
        #expect(h.lastEventNeeded(keepingBefore: 10) == 9)
        h.found(Edge(from: 3, to: 5, kind: .programOrder), at: 5)
        h.found(Edge(from: 1, to: 4, kind: .programOrder), at: 900)
        #expect(h.lastEventNeeded(keepingBefore: 4) == 3)
        #expect(h.lastEventNeeded(keepingBefore: 5) == 900)
        #expect(h.lastEventNeeded(keepingBefore: 1000) == 999)
        // Past 4096 blocks they merge: a block is then 2^5 events wide.
        h.found(Edge(from: 70_000, to: 70_001, kind: .programOrder), at: 80_000)
        #expect(h.blockShift == 5)
        #expect(h.lastEventNeeded(keepingBefore: 10) == 900)
        #expect(h.lastEventNeeded(keepingBefore: 69_900) == 69_899)
        #expect(h.lastEventNeeded(keepingBefore: 70_002) == 80_000)
        #expect(h.lastEventNeeded(keepingBefore: 200_000) == 199_999)
    }
}
