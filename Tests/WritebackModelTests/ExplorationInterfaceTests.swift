import Testing
@testable import WritebackModel

/// The interface an explorer uses: deterministic successor sets and
/// hashable states. A small breadth-first search over every interleaving
/// of the actors finds the seed-002 fsync race on 3.6 and the V4 drain race,
/// and nothing on the fixed profiles.
@Suite struct ExplorationInterfaceTests {
    typealias F = Fixture

    struct Outcome {
        var states = 0
        var violations: Set<RuleID> = []
    }

    /// Exhaustive search; `bound` caps the number of distinct states.
    static func explore(_ profile: KernelProfile, _ initial: ModelState, actors: [ActorRef], bound: Int = 5000) -> Outcome {
        let model = WritebackModel(profile: profile)
        var seen: Set<ModelState> = [initial]
        var frontier = [initial]
        var outcome = Outcome()
        while let state = frontier.popLast(), seen.count < bound {
            for step in model.successors(of: state, actors: actors) {
                outcome.violations.formUnion(step.violations.map(\.rule))
                if seen.insert(step.state).inserted { frontier.append(step.state) }
            }
        }
        outcome.states = seen.count
        return outcome
    }

    /// fsync (task 1) racing the irq and the conversion worker.
    static func fsyncScenario(_ profile: KernelProfile) -> ModelState {
        var s = F.dirtyFolioOverUnwritten()
        s = try! WritebackModel(profile: profile).apply(.ext4SyncFile(task: 1, F.inode, datasync: false), to: s).state
        return s
    }

    @Test func fsyncRaceFoundOnOldProfilesOnly() {
        let actors: [ActorRef] = [.task(1), .blockDevice, .worker]
        for profile in [KernelProfile.ext4_3_6, .ext4_3_7_v4] {
            let o = Self.explore(profile, Self.fsyncScenario(profile), actors: actors)
            #expect(o.violations == [.fsyncBeforeConversion], "\(profile)")
            #expect(o.states < 5000)
        }
        for profile in [KernelProfile.ext4_3_7, .ext4_3_11, .ext4_6_15, .ext4_6_x] {
            let o = Self.explore(profile, Self.fsyncScenario(profile), actors: actors)
            #expect(o.violations.isEmpty, "\(profile)")
            #expect(o.states > 5, "\(profile) explored \(o.states) states")
        }
    }

    /// Reclaim plus a re-reader against the completion and the worker.
    @Test func reclaimRaceFoundOn36Only() {
        func scenario(_ p: KernelProfile) -> ModelState {
            var s = F.dirtyFolioOverUnwritten()
            let m = WritebackModel(profile: p)
            s = try! m.apply(.ext4Writepages(task: 3, F.inode, syncAll: false), to: s).state
            return s
        }
        let actors: [ActorRef] = [.task(3), .blockDevice, .worker, .reclaim]
        #expect(Self.explore(.ext4_3_6, scenario(.ext4_3_6), actors: actors).violations == [.staleReadBeforeConversion])
        #expect(Self.explore(.ext4_6_x, scenario(.ext4_6_x), actors: actors).violations.isEmpty)
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
