import Testing
@testable import Explore
import WritebackModel

/// The replay applies transitions in place and keeps aside only what the
/// rules read (`WritebackModel.apply(_:in:)`); the explorer copies whole
/// states (`apply(_:to:)`). Over the state spaces of every built-in scenario,
/// where each of the seven rules fires, both must report the same
/// violations and reach the same state.
@Suite struct InPlaceEquivalenceTests {
    @Test(arguments: ScenarioProfiles.all)
    func inPlaceApplyAgreesWithCopyingApply(_ name: String, _ profile: KernelProfile) throws {
        let scenario = try #require(BuiltinScenarios.named(name))
        let model = WritebackModel(profile: profile)
        let system = ScenarioSystem(scenario, model)
        let start = system.initial(try scenario.start(model).state)
        var seen: Set<ExploreState> = [start]
        var frontier = [start]
        var steps = 0
        var violations = 0
        while let s = frontier.popLast(), seen.count < 3000 {
            for (step, next) in system.successors(of: s) {
                var inPlace = s.model
                let found = try model.apply(step.transition, in: &inPlace)
                #expect(found == step.violations, "\(name) \(profile): \(step.transition.kernelFunction)")
                #expect(inPlace == step.state)
                steps += 1
                violations += found.count
                if seen.insert(next).inserted { frontier.append(next) }
            }
        }
        #expect(steps > 10)
        if scenario.bugProfiles.contains(profile) {
            // The scenario's bug is within reach: the rule fired on some step compared.
            #expect(violations > 0, "\(name) under \(profile) never broke a rule within 3000 states")
        }
    }
}
