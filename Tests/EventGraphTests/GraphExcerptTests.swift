import Testing
import TraceIO
@testable import EventGraph

/// Excerpts of the graph (`why`, `graph --around`): where one answers a
/// neighbourhood or a causal chain, the answer is the whole graph's, on the
/// real traces; where it lacks part of the answer, it says so (nil).
@Suite struct GraphExcerptTests {
    static func excerpt(_ name: String, _ range: Range<Int>) throws -> EventGraph {
        try EventGraph.build(from: Samples.reader(Samples.path(name, "dat")), range: range)
    }

    /// Small excerpts around events spread over each trace: where an
    /// excerpt answers, its answer is the whole graph's; the nodes it holds
    /// are the whole graph's nodes.
    @Test(arguments: Samples.names)
    func excerptsAnswerAsTheWholeGraph(name: String) throws {
        let whole = try Samples.graph(name)
        let n = whole.eventCount
        var answered = 0, declined = 0
        for centre in stride(from: n / 5, to: n, by: max(1, n / 3)) {
            for radius in [40, 2_000] {
                let part = try Self.excerpt(name, max(0, centre - radius)..<(centre + radius + 1))
                #expect(part.eventCount == n)
                #expect(part.contains(event: centre))
                #expect(!part.contains(event: centre + radius + 1))
                #expect(part.node(centre) == whole.node(centre))
                if let events = part.neighbourhood(of: centre, depth: 3, limit: 120) {
                    answered += 1
                    #expect(events == whole.neighbourhood(of: centre, depth: 3, limit: 120))
                    #expect(part.subgraph(.events(events)) == whole.subgraph(.events(events)))
                } else {
                    declined += 1
                }
                if let chain = part.completeCausalChain(to: centre, limit: 40) {
                    answered += 1
                    let wholeChain = whole.causalChain(to: centre, limit: 40)
                    #expect(chain == wholeChain)
                    #expect(part.subgraph(chain) == whole.subgraph(wholeChain))
                } else {
                    declined += 1
                }
            }
        }
        #expect(answered > 0)
        #expect(whole.neighbourhood(of: n / 2, depth: 3, limit: 120) != nil)
        _ = declined
    }

    /// An excerpt of one event cannot tell that event's task neighbours:
    /// it declines rather than answer with less.
    @Test func aOneEventExcerptDeclines() throws {
        let whole = try Samples.graph("fsync_unwritten")
        let centre = whole.eventCount / 2
        let part = try Self.excerpt("fsync_unwritten", centre..<(centre + 1))
        #expect(part.neighbourhood(of: centre, depth: 1, limit: 120) == nil)
        #expect(whole.neighbourhood(of: centre, depth: 1, limit: 120)!.count > 1)
    }
}
