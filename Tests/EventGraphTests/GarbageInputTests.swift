import Testing
import TraceIO
import KernelEvents
@testable import EventGraph

/// Known event names with random, missing or extreme field values: the
/// builder must neither crash nor invent links, whatever the input.
@Suite struct GarbageInputTests {
    struct LCG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
    }

    static let names = Array(KernelEventDecoder.knownEventNames).sorted() + ["sys_enter_ioctl", "sys_exit_ioctl", "sys_exit_fsync", "mystery_event"]
    static let fieldNames = ["dev", "s_dev", "ino", "i_ino", "lblk", "pblk", "len", "flags", "mflags", "ret", "status", "sector",
                             "nr_sector", "rwbs", "error", "work", "function", "transaction", "pid", "next_pid", "index", "order",
                             "name", "cmd", "start_pos", "m_lblk", "old_dev", "old_sector"]

    func value(_ r: inout LCG) -> FieldValue {
        switch r.next() % 6 {
        case 0: return .unsigned(r.pick([0, 1, 8, UInt64.max, UInt64.max - 3, 0x4000_0433, r.next()]))
        case 1: return .signed(r.pick([0, -1, Int64.min, Int64.max, 5]))
        case 2: return .string(r.pick(["", "FF", "WS", "7:0", "(unknown)", "CREATE|BOGUS", "NMU", "\u{0}x"]))
        case 3: return .device(DeviceNumber(major: UInt32(r.next() % 3 + 7), minor: 0))
        default: return .unsigned(r.next() % 64)
        }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomStreamsBuildWithoutCrashing(seed: UInt64) {
        var r = LCG(state: seed)
        var builder = EventGraphBuilder()
        var count = 0
        for i in 0..<20_000 {
            if r.next() % 500 == 0 {
                builder.add(.lost(LostEvents(cpu: 0, count: nil, timestamp: nil)))
                continue
            }
            var fields = EventFields()
            for _ in 0..<(r.next() % 10) { fields.append(r.pick(Self.fieldNames), value(&r)) }
            // Timestamps may go backwards, as merged per-CPU clocks can.
            let event = TraceEvent(timestamp: UInt64(i) * 10 &- (r.next() % 30), cpu: Int(r.next() % 4),
                                   pid: Int32(r.next() % 6), comm: "x", name: r.pick(Self.names), fields: fields)
            builder.add(.event(event))
            count += 1
        }
        let g = builder.finish()
        #expect(g.eventCount == count)
        for u in g.unlinked { #expect(g.contains(event: u.node)) }
        for c in g.conversions.prefix(50) {
            for s in c.submissions { #expect(s < c.conversion) }
        }
        // Queries stay total on any graph.
        for k in 0..<200 {
            let a = Int(r.next() % UInt64(count)), b = Int(r.next() % UInt64(count))
            if g.isBefore(a, b) { #expect(!g.isBefore(b, a) || g.backwardEdges > 0, "cycle at \(k)") }
        }
        _ = g.causalChain(to: count - 1)
        _ = DOTGraphFormatter().format(g.subgraph(.events(Array(0..<min(count, 300)))))
        #expect(!g.isBefore(-1, 3) && !g.isBefore(0, count + 5))
    }

    @Test func emptyStreamGivesAnEmptyGraph() {
        let g = EventGraphBuilder().finish()
        #expect(g.eventCount == 0)
        #expect(g.unlinked.isEmpty)
        #expect(g.causalChain(to: 0).steps.isEmpty)
        #expect(g.subgraph(.all).nodes.isEmpty)
        #expect(g.edgeCounts.values.allSatisfy { $0 == 0 })
    }
}
