import Testing
import TraceIO
@testable import EventGraph

/// `why` without the whole graph (`StreamedCausalChain`): on the real
/// traces, the chain of passes keeping small windows is the whole graph's
/// chain, step for step, with the same events and the same drawing; where
/// it cannot tell, it says so.
@Suite struct StreamedCausalChainTests {
    static func streamed(_ name: String, _ target: Int, limit: Int, firstWindow: Int, laterWindow: Int,
                         ringCapacity: Int = CausalChainPass.ringCapacity) throws -> (answer: StreamedCausalChain.Answer, passes: Int, eventsRead: Int) {
        try StreamedCausalChain.find(to: target, limit: limit, causesPerKind: 3, firstWindow: firstWindow,
                                     laterWindow: laterWindow, ringCapacity: ringCapacity,
                                     open: { try DatReader(path: Samples.path(name, "dat")) })
    }

    /// Targets spread over the trace, and the ones whose whole-graph chain
    /// reaches furthest back (the steps span the most events).
    static func targets(_ whole: EventGraph, limit: Int) -> [Int] {
        let n = whole.eventCount
        let spread = [n / 3, 2 * n / 3]
        let candidates = stride(from: n - 1, to: 0, by: -max(1, n / 60))
        let far = candidates.map { t -> (Int, Int) in
            let chain = whole.causalChain(to: t, limit: limit)
            return (t, t - (chain.steps.first?.node ?? t))
        }.sorted { $0.1 > $1.1 }.prefix(2).map(\.0)
        return spread + far
    }

    static func expectSame(_ report: CausalChainReport, _ whole: EventGraph, _ target: Int, limit: Int) {
        let chain = whole.causalChain(to: target, limit: limit)
        #expect(report.chain == chain)
        #expect(report.subgraph == whole.subgraph(chain))
        for step in chain.steps { #expect(report.node(step.node) == whole.node(step.node)) }
    }

    @Test(arguments: Samples.names)
    func passesFindTheWholeGraphsChain(name: String) throws {
        let whole = try Samples.graph(name)
        for limit in [40, 5] {
            for target in Self.targets(whole, limit: limit) {
                let (answer, passes, _) = try Self.streamed(name, target, limit: limit, firstWindow: 256, laterWindow: 64)
                guard case .chain(let report) = answer else {
                    // Only a chain cut at the limit on a trace with edges against the clock may decline here.
                    #expect(whole.backwardEdges > 0 && whole.causalChain(to: target, limit: limit).truncated,
                            "\(name) event \(target): \(answer)")
                    continue
                }
                Self.expectSame(report, whole, target, limit: limit)
                _ = passes
            }
        }
    }

    /// Windows of a few events: the chain reaching furthest back takes
    /// many passes, each fetching the causes the last one lacked, each after
    /// the first reading the trace only as far as its windows need.
    @Test func tinyWindowsTakeManyPasses() throws {
        let whole = try Samples.graph("fsync_unwritten")
        let target = Self.targets(whole, limit: 40).last!
        let (answer, passes, eventsRead) = try Self.streamed("fsync_unwritten", target, limit: 40, firstWindow: 8, laterWindow: 4)
        guard case .chain(let report) = answer else { Issue.record("declined: \(answer)"); return }
        Self.expectSame(report, whole, target, limit: 40)
        #expect(passes > 2)
        // The first pass reads the whole trace, the later ones stop early (`PassHorizon`).
        #expect(eventsRead < passes * whole.eventCount)
        #expect(eventsRead > whole.eventCount)
    }

    /// With the default windows the trace's middle event needs one pass on these small traces.
    @Test func defaultWindowsAnswerInOnePass() throws {
        let whole = try Samples.graph("fsync_unwritten")
        let target = whole.eventCount / 2
        let (answer, passes, _) = try StreamedCausalChain.find(to: target, limit: 40) {
            try DatReader(path: Samples.path("fsync_unwritten", "dat"))
        }
        guard case .chain(let report) = answer else { Issue.record("declined: \(answer)"); return }
        Self.expectSame(report, whole, target, limit: 40)
        #expect(passes == 1)
    }

    /// Past the last event: the count of events, no chain.
    @Test func anEventPastTheEndIsOutOfRange() throws {
        let whole = try Samples.graph("punch_hole")
        let (answer, _, _) = try Self.streamed("punch_hole", whole.eventCount, limit: 40, firstWindow: 64, laterWindow: 16)
        guard case .outOfRange(let events) = answer else { Issue.record("answered: \(answer)"); return }
        #expect(events == whole.eventCount)
    }

    /// A ring of task chains too short to tell which task an edge's cause
    /// belongs to: the anchors that edge could move are unknown, and the
    /// passes decline (the whole graph answers) rather than guess.
    @Test func aRingTooShortDeclines() throws {
        let whole = try Samples.graph("fsync_unwritten")
        var declined = 0
        for target in Self.targets(whole, limit: 40) {
            let (answer, _, _) = try Self.streamed("fsync_unwritten", target, limit: 40, firstWindow: 256, laterWindow: 64,
                                                ringCapacity: 4)
            switch answer {
            case .chain(let report): Self.expectSame(report, whole, target, limit: 40)
            case .needsWholeGraph: declined += 1
            case .outOfRange: Issue.record("event \(target) in range")
            }
        }
        #expect(declined > 0)
    }
}
