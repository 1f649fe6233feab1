import Testing
@testable import WritebackModel

/// The interface an explorer uses: deterministic successor sets and
/// hashable states. The exhaustive searches themselves (the seed-002 fsync
/// race on 3.6 and the V4 drain race, the seed-000 reclaim race, nothing on
/// the fixed profiles) live in the Explore module and its tests
/// (`ScenarioSearchTests`, built-ins fsync-vs-conversion and
/// reclaim-before-conversion).
@Suite struct ExplorationInterfaceTests {
    typealias F = Fixture

    /// fsync (task 1) racing the irq and the conversion worker.
    static func fsyncScenario(_ profile: KernelProfile) -> ModelState {
        var s = F.dirtyFolioOverUnwritten()
        s = try! WritebackModel(profile: profile).apply(.ext4SyncFile(task: 1, F.inode, datasync: false), to: s).state
        return s
    }

    @Test func successorsAreDeterministicAndMatchEnabledTransitions() {
        let model = WritebackModel(profile: .ext4_6_x)
        let s = Self.fsyncScenario(.ext4_6_x)
        let actors: [ActorRef] = [.task(1), .blockDevice, .worker, .reclaim]
        let a = model.enabledTransitions(in: s, actors: actors)
        #expect(a == model.enabledTransitions(in: s, actors: actors))
        #expect(a == model.successors(of: s, actors: actors).map(\.transition))
        #expect(a == [.mpageSubmitFolio(task: 1, F.folio0)])
    }

    @Test func disabledTransitionThrowsWithReason() {
        let model = WritebackModel(profile: .ext4_6_x)
        #expect(throws: NotEnabled.self) {
            try model.apply(.ext4SyncFileReturn(task: 1), to: Self.fsyncScenario(.ext4_6_x))
        }
        #expect(model.whyNotEnabled(.ext4EndBio(F.bio0, error: false), in: Self.fsyncScenario(.ext4_6_x)) != nil)
    }

    @Test func equalHistoriesGiveEqualStates() {
        let a = Self.fsyncScenario(.ext4_3_6)
        let b = Self.fsyncScenario(.ext4_3_6)
        #expect(a == b && a.hashValue == b.hashValue)
    }
}
