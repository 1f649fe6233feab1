import WritebackModel

/// A point in the search: the model's state plus where each scripted task
/// is in its script. Hashable, so equal points reached by different
/// interleavings are explored once.
public struct ExploreState: Hashable, Sendable {
    public var model: ModelState
    /// Program counters, one per `Scenario.scriptedTasks` entry.
    public var scriptPositions: [UInt8]
}

/// The scenario as a transition system over `ExploreState`: the very same
/// `WritebackModel.apply` the replay drives, with the scripts on top.
struct ScenarioSystem {
    let scenario: Scenario
    let model: WritebackModel
    let tasks: [Int]
    let scripts: [[Transition]]

    init(_ scenario: Scenario, _ model: WritebackModel) {
        self.scenario = scenario
        self.model = model
        tasks = scenario.scriptedTasks
        scripts = tasks.map { scenario.scripts[$0] ?? [] }
    }

    func initial(_ state: ModelState) -> ExploreState {
        ExploreState(model: state, scriptPositions: Array(repeating: 0, count: tasks.count))
    }

    /// Every step possible from `s`, in a fixed order: actors in scenario
    /// order; a busy task continues its operation, an idle one starts the
    /// next operation of its script if the model lets it.
    func successors(of s: ExploreState) -> [(Step, ExploreState)] {
        var out: [(Step, ExploreState)] = []
        for actor in scenario.actors {
            if case .task(let id) = actor.ref, s.model.tasks[id] == nil {
                guard let slot = tasks.firstIndex(of: id) else { continue }
                let pc = Int(s.scriptPositions[slot])
                guard pc < scripts[slot].count, let step = try? model.apply(scripts[slot][pc], to: s.model) else { continue }
                var next = ExploreState(model: step.state, scriptPositions: s.scriptPositions)
                next.scriptPositions[slot] += 1
                out.append((step, next))
                continue
            }
            for step in model.successors(of: s.model, actors: [actor.ref]) {
                out.append((step, ExploreState(model: step.state, scriptPositions: s.scriptPositions)))
            }
        }
        return out
    }
}
