import ArgumentParser
import Explore
import Foundation
import WritebackModel

struct ExploreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Search every interleaving of a scenario's actors for ordering bugs.",
        discussion: """
        Built-in scenarios: \(BuiltinScenarios.all.map(\.name).joined(separator: ", ")) (--list describes them). \
        Prints the states explored, the time, states/s, and for each rule broken the shortest schedule \
        as a column diagram. --emit-trace writes that schedule as a tracefs `trace` file that \
        `wbreplay check --profile P` flags with the same rule. \
        Exit status: 0 no violation within the bound, 1 violation found, 2 error.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "The scenario to explore.")
    var scenario: String?

    @Option(help: "Kernel profile (\(KernelProfile.allCases.map(\.rawValue).joined(separator: ", "))); default: the first profile that had the scenario's bug.")
    var profile: KernelProfile?

    @Option(help: "Depth bound: transitions after the scenario's set-up (default: the scenario's own).")
    var bound: Int?

    @Option(help: "Stop after this many distinct states (the report then says the bound cut the search).")
    var maxStates: Int = 1_000_000

    @Option(help: "Write the shortest counterexample as an ftrace text trace to this file.")
    var emitTrace: String?

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @Flag(help: "List the built-in scenarios and exit.")
    var list = false

    func run() throws {
        let out = OutputStream()
        defer { out.flush() }
        if list {
            TextScenarioListFormatter().write(BuiltinScenarios.all, to: out)
            return
        }
        guard let name = scenario else { throw CommandError("--scenario NAME is required (or --list)") }
        guard let scenario = BuiltinScenarios.named(name) else {
            throw CommandError("unknown scenario '\(name)'; scenarios: \(BuiltinScenarios.all.map(\.name).joined(separator: ", "))")
        }
        if let bound, bound < 1 { throw CommandError("--bound must be at least 1") }
        if maxStates < 1 { throw CommandError("--max-states must be at least 1") }
        let profile = self.profile ?? scenario.bugProfiles.first ?? .ext4_6_x
        let result: ExploreResult
        do {
            result = try Explorer(scenario: scenario, profile: profile)
                .run(bound: ExploreBound(depth: bound ?? scenario.defaultBound, maxStates: maxStates))
        } catch {
            throw CommandError(error.description)
        }
        var written: String?
        if let path = emitTrace, let c = result.counterexamples.first(where: { $0.rule == scenario.rule }) ?? result.counterexamples.first {
            let text = TraceEmitter(scenario: scenario, profile: profile).text(for: c)
            do {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw CommandError("cannot write \(path): \(error.localizedDescription)")
            }
            written = path
        }
        let report = ExploreReport(scenario: scenario, result: result, tracePath: written)
        switch format {
        case .text: TextExploreFormatter().write(report, to: out)
        case .json: JSONExploreFormatter().write(report, to: out)
        }
        out.flush()
        if result.violated { throw ExitCode(1) }
    }
}

/// What the explore formatters render: the library's result plus the CLI's
/// own facts (where the trace went).
struct ExploreReport {
    var scenario: Scenario
    var result: ExploreResult
    var tracePath: String?
}
