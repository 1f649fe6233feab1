import Testing
import TraceIO
import WritebackModel
@testable import Explore

/// A scenario of one's own, through the public API: fdatasync and punch
/// hole racing over a fallocated block (both from seed 002's list of
/// callers of ext4_flush_completed_IO).
@Suite struct ScenarioAPITests {
    static let dev = DeviceNumber(major: 8, minor: 16)
    static let inode = InodeRef(dev: dev, ino: 131, generation: 7)
    static let folio = FolioRef(inode: inode, index: 0)

    static let scenario = Scenario(
        name: "fdatasync-vs-punch",
        summary: "fdatasync of a write into a fallocated block while punch hole removes it",
        source: "test", rule: .truncateDuringConversion,
        bugProfiles: [.ext4_3_6], fixedProfiles: [.ext4_6_x], defaultBound: 30,
        actors: [ScenarioActor(.task(1), role: "fdatasync", comm: "postgres", pid: 2201, cpu: 1),
                 ScenarioActor(.task(2), role: "punch", comm: "fallocate", pid: 2202, cpu: 0),
                 ScenarioActor(.blockDevice, role: "irq", comm: "<idle>", pid: 0, cpu: 0),
                 ScenarioActor(.worker, role: "kworker", comm: "kworker/u4:2", pid: 77, cpu: 1)],
        scripts: [1: [.ext4DaWriteBegin(task: 1, folio), .ext4SyncFile(task: 1, inode, datasync: true)],
                  2: [.ext4PunchHole(task: 2, inode, BlockRange(lblk: 0, len: 1))]],
        device: dev, dataStartBlock: 9000,
        initialState: { profile in
            var s = ModelState()
            s.mount(dev, SuperblockState(defaultsOf: profile))
            s.addInode(inode, sizeBlocks: 1)
            s.setExtent(inode, BlockRange(lblk: 0, len: 1), .unwritten)
            return s
        })

    @Test func oldProfileBreaksBothFlushCallers() throws {
        let r = try Explorer(scenario: Self.scenario, profile: .ext4_3_6).run(bound: ExploreBound(depth: 30))
        #expect(Set(r.counterexamples.map(\.rule)) == [.truncateDuringConversion, .fsyncBeforeConversion])
        #expect(!r.truncated)
        // Breadth-first: no schedule for the rule is shorter than the one reported.
        let c = try #require(r.counterexamples.first { $0.rule == .truncateDuringConversion })
        let shorter = try Explorer(scenario: Self.scenario, profile: .ext4_3_6).run(bound: ExploreBound(depth: c.steps.count - 1))
        #expect(!shorter.counterexamples.contains { $0.rule == .truncateDuringConversion })
    }

    @Test func modernProfileIsClean() throws {
        let r = try Explorer(scenario: Self.scenario, profile: .ext4_6_x).run(bound: ExploreBound(depth: 30))
        #expect(r.counterexamples.isEmpty)
        #expect(!r.truncated)
    }

    /// The emitted trace prints the scenario's own device, inode, pids and blocks.
    @Test func traceUsesTheScenariosObjects() throws {
        let r = try Explorer(scenario: Self.scenario, profile: .ext4_3_6).run(bound: ExploreBound(depth: 30))
        let c = try #require(r.counterexamples.first)
        let text = TraceEmitter(scenario: Self.scenario, profile: .ext4_3_6).text(for: c)
        #expect(text.contains("postgres-2201 "))
        #expect(text.contains("dev 8,16 ino 131"))
        #expect(text.contains("block_bio_queue: 8,16 WS \(9000 * 8) + 8"))
        #expect(!text.contains("ino 12 "))
    }

    /// A set-up step the profile cannot take is an error, not a silent empty search.
    @Test func impossibleSetupThrows() {
        var bad = Self.scenario
        bad.setup = [.apply(.ext4SyncFileReturn(task: 1))]
        #expect(throws: ScenarioError.self) {
            try Explorer(scenario: bad, profile: .ext4_6_x).run(bound: ExploreBound(depth: 5))
        }
    }
}
