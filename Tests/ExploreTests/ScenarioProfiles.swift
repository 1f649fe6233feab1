import WritebackModel
@testable import Explore

/// The (scenario name, profile) pairs the Explore suites run over.
enum ScenarioProfiles {
    /// Each built-in under the profiles that have its bug.
    static let bug: [(String, KernelProfile)] = BuiltinScenarios.all.flatMap { s in s.bugProfiles.map { (s.name, $0) } }
    /// Each built-in under the profiles that fixed it.
    static let fixed: [(String, KernelProfile)] = BuiltinScenarios.all.flatMap { s in s.fixedProfiles.map { (s.name, $0) } }
    /// Both.
    static let all: [(String, KernelProfile)] = BuiltinScenarios.all.flatMap { s in
        (s.bugProfiles + s.fixedProfiles).map { (s.name, $0) }
    }
}
