import WritebackModel

/// How far the search goes.
public struct ExploreBound: Hashable, Sendable {
    /// Transitions after the set-up; states this deep are not expanded.
    public var depth: Int
    /// Distinct states at most (a safety net for large scenarios).
    public var maxStates: Int

    public init(depth: Int, maxStates: Int = 1_000_000) {
        self.depth = depth
        self.maxStates = maxStates
    }
}

/// What a search found.
public struct ExploreResult: Sendable {
    public var scenario: String
    public var profile: KernelProfile
    public var bound: ExploreBound
    /// Distinct states reached (set-up state included).
    public var states: Int
    /// Transitions applied.
    public var transitions: Int
    /// Transitions the sleep sets did not take again (partial-order reduction).
    public var prunedBySleepSets: Int
    /// Deepest level expanded.
    public var depthReached: Int
    /// The bound stopped the search (depth or state count): "nothing found"
    /// holds only within it.
    public var truncated: Bool
    public var seconds: Double
    /// The shortest counterexample for each rule broken, in rule order.
    public var counterexamples: [Counterexample]

    public var statesPerSecond: Double { seconds > 0 ? Double(states) / seconds : Double(states) }
    public var violated: Bool { !counterexamples.isEmpty }
}

/// Exhaustive breadth-first search of a scenario's interleavings with state
/// hashing and sleep sets (Godefroid's partial-order reduction: a step
/// already explored from a state is not re-taken after an independent
/// step). Breadth-first, so the first violation found of each rule has a
/// shortest schedule. Every step is checked with the same rules as `check`
/// (`WritebackModel.apply`).
public struct Explorer {
    public let scenario: Scenario
    public let model: WritebackModel

    public init(scenario: Scenario, profile: KernelProfile) {
        self.scenario = scenario
        self.model = WritebackModel(profile: profile)
    }

    private struct Node {
        var parent: Int
        /// How the search got here (the state itself is in `states`).
        var transition: Transition?
        var depth: Int
        /// Steps asleep here (explored from an earlier state, independent since).
        var sleep: Set<Transition>
    }

    private struct Work {
        var node: Int
        /// Only these transitions (a re-expansion after the sleep set shrank).
        var only: Set<Transition>?
    }

    /// Explores every interleaving within `bound`. `reduce: false` turns the
    /// sleep sets off: the same states and violations are reached (the tests
    /// compare both), each re-ordering of independent steps taken again.
    public func run(bound: ExploreBound, reduce: Bool = true) throws(ScenarioError) -> ExploreResult {
        let clock = ContinuousClock()
        let started = clock.now
        let system = ScenarioSystem(scenario, model)
        let (initialModel, setup) = try scenario.start(model)
        let root = system.initial(initialModel)

        var index: [ExploreState: Int] = [root: 0]
        var states: [ExploreState] = [root]
        var nodes = [Node(parent: -1, transition: nil, depth: 0, sleep: [])]
        var queue = [Work(node: 0, only: nil)]
        var head = 0
        var found: [RuleID: Counterexample] = [:]
        var transitions = 0, pruned = 0, depthReached = 0
        var truncated = false
        let setupViolations = setup.flatMap(\.violations)
        if !setupViolations.isEmpty {
            throw ScenarioError("scenario \(scenario.name): its set-up already breaks \(setupViolations[0].rule) under \(model.profile)")
        }

        while head < queue.count {
            let work = queue[head]
            head += 1
            let node = nodes[work.node]
            if node.depth >= bound.depth {
                if !system.successors(of: states[work.node]).isEmpty { truncated = true }
                continue
            }
            depthReached = max(depthReached, node.depth)
            let here = states[work.node]
            let successors = system.successors(of: here)
            let prints = successors.map { Independence.footprint(of: $0.0.transition, in: here.model) }
            let sleepHere = node.sleep
            var done: [Int] = []
            for (k, (step, next)) in successors.enumerated() {
                let t = step.transition
                if reduce, sleepHere.contains(t) { pruned += 1; continue }
                defer { done.append(k) }
                if let only = work.only, !only.contains(t) { continue }
                transitions += 1
                for v in step.violations where (found[v.rule]?.steps.count ?? Int.max) > node.depth + 1 {
                    var c = counterexample(setup: setup, start: initialModel, nodes: nodes, from: work.node, last: step, violation: v)
                    c.foundAfterSeconds = Self.seconds(clock.now - started)
                    c.statesWhenFound = states.count
                    c.completion = completion(from: next, system)
                    found[v.rule] = c
                }
                guard reduce else {
                    if index[next] == nil, states.count < bound.maxStates {
                        index[next] = states.count
                        states.append(next)
                        nodes.append(Node(parent: work.node, transition: t, depth: node.depth + 1, sleep: []))
                        queue.append(Work(node: states.count - 1, only: nil))
                    } else if index[next] == nil { truncated = true }
                    continue
                }
                // Asleep in the successor: what was asleep here, or explored
                // here before this step, if independent of this step.
                var sleep = Set<Transition>()
                for u in sleepHere where Independence.independent(Independence.footprint(of: u, in: here.model), prints[k]) {
                    sleep.insert(u)
                }
                for j in done where Independence.independent(prints[j], prints[k]) {
                    sleep.insert(successors[j].0.transition)
                }
                if let seen = index[next] {
                    let old = nodes[seen].sleep
                    guard !old.isSubset(of: sleep) else { continue }
                    nodes[seen].sleep = old.intersection(sleep)
                    queue.append(Work(node: seen, only: old.subtracting(sleep)))
                    continue
                }
                guard states.count < bound.maxStates else { truncated = true; continue }
                index[next] = states.count
                states.append(next)
                nodes.append(Node(parent: work.node, transition: t, depth: node.depth + 1, sleep: sleep))
                queue.append(Work(node: states.count - 1, only: nil))
            }
        }
        let seconds = Self.seconds(clock.now - started)
        return ExploreResult(
            scenario: scenario.name, profile: model.profile, bound: bound, states: states.count,
            transitions: transitions, prunedBySleepSets: pruned, depthReached: depthReached,
            truncated: truncated, seconds: seconds,
            counterexamples: RuleID.allCases.compactMap { found[$0] })
    }

    /// The rest of a run: the first possible step each time, at most 64.
    private func completion(from start: ExploreState, _ system: ScenarioSystem) -> [Step] {
        var s = start
        var out: [Step] = []
        while out.count < 64, let (step, next) = system.successors(of: s).first {
            out.append(step)
            s = next
        }
        return out
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// The path to `node` replayed from the start (nodes keep transitions,
    /// not states), then the violating step.
    private func counterexample(setup: [Step], start: ModelState, nodes: [Node], from node: Int, last: Step,
                                violation: RuleViolation) -> Counterexample {
        var transitions: [Transition] = []
        var i = node
        while i > 0, let t = nodes[i].transition {
            transitions.append(t)
            i = nodes[i].parent
        }
        var state = start
        var path: [Step] = []
        for t in transitions.reversed() {
            guard let step = try? model.apply(t, to: state) else { break }
            path.append(step)
            state = step.state
        }
        return Counterexample(scenario: scenario.name, profile: model.profile, rule: violation.rule,
                              violation: violation, setup: setup, steps: path + [last])
    }
}
