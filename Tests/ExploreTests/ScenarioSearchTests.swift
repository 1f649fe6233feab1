import Testing
import WritebackModel
@testable import Explore

/// What the issue asks of every built-in: it finds its bug, with the rule it
/// is about, in the profile that had it, and nothing in the fixed profiles
/// within its stated bound (a complete search: the bound was not hit).
@Suite struct ScenarioSearchTests {
    @Test(arguments: ScenarioProfiles.bug)
    func findsItsBug(_ name: String, _ profile: KernelProfile) throws {
        let scenario = try #require(BuiltinScenarios.named(name))
        let result = try Explorer(scenario: scenario, profile: profile).run(bound: ExploreBound(depth: scenario.defaultBound))
        #expect(result.counterexamples.map(\.rule) == [scenario.rule], "\(name) on \(profile)")
        #expect(result.states > 1)
        let c = try #require(result.counterexamples.first)
        #expect(c.steps.last?.violations.contains { $0.rule == scenario.rule } == true)
    }

    @Test(arguments: ScenarioProfiles.fixed)
    func fixedProfileIsClean(_ name: String, _ profile: KernelProfile) throws {
        let scenario = try #require(BuiltinScenarios.named(name))
        let result = try Explorer(scenario: scenario, profile: profile).run(bound: ExploreBound(depth: scenario.defaultBound))
        #expect(result.counterexamples.isEmpty, "\(name) on \(profile): \(result.counterexamples.map(\.rule))")
        #expect(!result.truncated, "\(name) on \(profile): the bound cut the search at depth \(result.depthReached)")
        #expect(result.states > 5)
    }
}

/// The partial-order reduction drops only re-orderings of independent
/// steps: with and without sleep sets the search reaches the same states
/// and finds the same rules broken, in every scenario and every profile.
@Suite struct ReductionTests {
    @Test(arguments: ScenarioProfiles.all)
    func sleepSetsKeepStatesAndViolations(_ name: String, _ profile: KernelProfile) throws {
        let scenario = try #require(BuiltinScenarios.named(name))
        let explorer = Explorer(scenario: scenario, profile: profile)
        let bound = ExploreBound(depth: scenario.defaultBound)
        let reduced = try explorer.run(bound: bound)
        let full = try explorer.run(bound: bound, reduce: false)
        #expect(reduced.states == full.states)
        #expect(reduced.counterexamples.map(\.rule) == full.counterexamples.map(\.rule))
        #expect(reduced.counterexamples.map(\.steps.count) == full.counterexamples.map(\.steps.count), "shortest stays shortest")
        #expect(full.prunedBySleepSets == 0)
    }

    /// Where steps of different folios interleave (seed 001's four writers),
    /// the sleep sets do skip re-orderings.
    @Test func freezeScenarioSkipsReorderings() throws {
        let scenario = try #require(BuiltinScenarios.named("freeze-vs-mmap"))
        let r = try Explorer(scenario: scenario, profile: .ext4_6_x).run(bound: ExploreBound(depth: scenario.defaultBound))
        #expect(r.prunedBySleepSets > 0)
    }
}

/// Independence is what the reduction trusts: check it against the model
/// where it claims two steps commute.
@Suite struct IndependenceTests {
    @Test(arguments: BuiltinScenarios.all.map(\.name))
    func independentStepsCommute(_ name: String) throws {
        let scenario = try #require(BuiltinScenarios.named(name))
        for profile in scenario.bugProfiles + scenario.fixedProfiles {
            let model = WritebackModel(profile: profile)
            let system = ScenarioSystem(scenario, model)
            var frontier = [system.initial(try scenario.start(model).state)]
            var seen = Set(frontier)
            var checked = 0
            while let s = frontier.popLast(), seen.count < 3000 {
                let next = system.successors(of: s)
                for (i, (a, sa)) in next.enumerated() {
                    for (b, sb) in next[(i + 1)...] {
                        let fa = Independence.footprint(of: a.transition, in: s.model)
                        let fb = Independence.footprint(of: b.transition, in: s.model)
                        guard Independence.independent(fa, fb) else { continue }
                        checked += 1
                        let ab = system.successors(of: sa).first { $0.0.transition == b.transition }
                        let ba = system.successors(of: sb).first { $0.0.transition == a.transition }
                        #expect(ab != nil && ba != nil, "\(name) \(profile): \(a.transition) / \(b.transition) disable each other")
                        #expect(ab?.1 == ba?.1, "\(name) \(profile): \(a.transition) / \(b.transition) do not commute")
                        #expect(ab.map { Set($0.0.violations.map(\.rule)) } == Set(b.violations.map(\.rule)))
                    }
                }
                for (_, n) in next where seen.insert(n).inserted { frontier.append(n) }
            }
            _ = checked
        }
    }
}
