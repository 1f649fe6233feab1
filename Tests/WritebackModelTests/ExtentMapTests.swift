import Testing
@testable import WritebackModel

@Suite struct ExtentMapTests {
    @Test func setSplitsAndCoalescesRuns() {
        var map = ExtentMap()
        map.set(BlockRange(lblk: 0, len: 10), to: .unwritten)
        map.set(BlockRange(lblk: 3, len: 2), to: .written)
        #expect(map.state(of: 2) == .unwritten)
        #expect(map.state(of: 3) == .written)
        #expect(map.state(of: 5) == .unwritten)
        #expect(map.state(of: 10) == .hole)
        #expect(map.runs.count == 3)
        map.set(BlockRange(lblk: 0, len: 10), to: .written)
        #expect(map.runs.count == 1)
        #expect(map.allocatedEnd == 10)
    }

    @Test func changeTouchesOnlyBlocksInTheGivenState() {
        var map = ExtentMap()
        map.set(BlockRange(lblk: 0, len: 2), to: .unwritten)
        map.change(BlockRange(lblk: 0, len: 4), from: .unwritten, to: .written)
        #expect(map.ranges(in: BlockRange(lblk: 0, len: 4), state: .written) == [BlockRange(lblk: 0, len: 2)])
        #expect(map.ranges(in: BlockRange(lblk: 0, len: 4), state: .hole) == [BlockRange(lblk: 2, len: 2)])
    }

    @Test func holeFreesBlocks() {
        var map = ExtentMap()
        map.set(BlockRange(lblk: 0, len: 8), to: .written)
        map.set(BlockRange(lblk: 2, len: 4), to: .hole)
        #expect(map.states(in: BlockRange(lblk: 0, len: 8)).map(\.state) == [.written, .hole, .written])
    }

    /// `freed(since:)` names exactly the blocks a later version freed; steps
    /// that free nothing (allocation, conversion, a hole punched in a hole)
    /// free nothing, and the count of frees is not part of the value.
    @Test func freedSinceAnEarlierVersion() {
        var map = ExtentMap()
        map.set(BlockRange(lblk: 0, len: 8), to: .unwritten)
        let allocated = map
        map.change(BlockRange(lblk: 0, len: 8), from: .unwritten, to: .written)
        #expect(map.freed(since: allocated).isEmpty)
        map.set(BlockRange(lblk: 20, len: 4), to: .hole)
        #expect(map.freed(since: allocated).isEmpty)
        #expect(map == { var m = ExtentMap(); m.set(BlockRange(lblk: 0, len: 8), to: .written); return m }())
        let beforePunch = map
        map.set(BlockRange(lblk: 2, len: 3), to: .hole)
        #expect(map.freed(since: beforePunch) == [BlockRange(lblk: 2, len: 3)])
        #expect(map.freed(since: allocated) == [BlockRange(lblk: 2, len: 3)])
        let afterPunch = map
        map.set(BlockRange(lblk: 2, len: 3), to: .written)
        #expect(map.freed(since: afterPunch).isEmpty)
        #expect(map == beforePunch)
        #expect(map.hashValue == beforePunch.hashValue)
    }

    /// `hasHole(in:)` answers what `states(in:)` lists, on maps with runs
    /// that touch, gaps of one block, and ranges that start or end inside
    /// a run, in a gap, before the first run and after the last.
    @Test func hasHoleAgreesWithTheListedStates() {
        var map = ExtentMap()
        map.set(BlockRange(lblk: 4, len: 4), to: .written)
        map.set(BlockRange(lblk: 8, len: 2), to: .unwritten)
        map.set(BlockRange(lblk: 11, len: 5), to: .written)
        map.set(BlockRange(lblk: 30, len: 1), to: .unwritten)
        var holes = 0
        for lblk in UInt64(0)..<34 {
            for len in UInt64(0)..<12 {
                let range = BlockRange(lblk: lblk, len: len)
                let listed = map.states(in: range).contains { $0.state == .hole }
                #expect(map.hasHole(in: range) == listed, "\(range)")
                if listed { holes += 1 }
            }
        }
        #expect(holes > 0 && holes < 34 * 12)
        #expect(!map.hasHole(in: BlockRange(lblk: 4, len: 6)))
        #expect(map.hasHole(in: BlockRange(lblk: 9, len: 3)))
        #expect(!ExtentMap().hasHole(in: BlockRange(lblk: 0, len: 0)))
        #expect(ExtentMap().hasHole(in: BlockRange(lblk: 0, len: 1)))
    }
}
