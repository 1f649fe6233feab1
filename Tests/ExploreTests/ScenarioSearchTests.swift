import Testing
import WritebackModel
@testable import Explore

/// What the issue asks of every built-in: it finds its bug, with the rule it
/// is about, in the profile that had it, and nothing in the fixed profiles
/// within its stated bound (a complete search: the bound was not hit).
@Suite struct ScenarioSearchTests {
    static let cases: [(String, KernelProfile)] = BuiltinScenarios.all.flatMap { s in s.bugProfiles.map { (s.name, $0) } }
    static let fixed: [(String, KernelProfile)] = BuiltinScenarios.all.flatMap { s in s.fixedProfiles.map { (s.name, $0) } }

    @Test(arguments: cases)
    func findsItsBug(_ name: String, _ profile: KernelProfile) throws {
        let scenario = try #require(BuiltinScenarios.named(name))
        let result = try Explorer(scenario: scenario, profile: profile).run(bound: ExploreBound(depth: scenario.defaultBound))
        #expect(result.counterexamples.map(\.rule) == [scenario.rule], "\(name) on \(profile)")
        #expect(result.states > 1)
        let c = try #require(result.counterexamples.first)
        #expect(c.steps.last?.violations.contains { $0.rule == scenario.rule } == true)
    }

    @Test(arguments: fixed)
    func fixedProfileIsClean(_ name: String, _ profile: KernelProfile) throws {
        let scenario = try #require(BuiltinScenarios.named(name))
        let result = try Explorer(scenario: scenario, profile: profile).run(bound: ExploreBound(depth: scenario.defaultBound))
        #expect(result.counterexamples.isEmpty, "\(name) on \(profile): \(result.counterexamples.map(\.rule))")
        #expect(!result.truncated, "\(name) on \(profile): the bound cut the search at depth \(result.depthReached)")
        #expect(result.states > 5)
    }
}
