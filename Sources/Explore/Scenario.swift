import TraceIO
import WritebackModel

/// Who runs in a scenario, and how that actor appears in an emitted trace:
/// the task name, pid and CPU a `trace` file line shows for it.
public struct ScenarioActor: Hashable, Sendable {
    public var ref: ActorRef
    /// Column title in the diagram ("fsync", "irq", "kworker", …).
    public var role: String
    public var comm: String
    public var pid: Int32
    public var cpu: Int

    public init(_ ref: ActorRef, role: String, comm: String, pid: Int32, cpu: Int) {
        self.ref = ref
        self.role = role
        self.comm = comm
        self.pid = pid
        self.cpu = cpu
    }
}

/// A step of a scenario's deterministic set-up, taken before the search
/// starts (and shown, and emitted, as the start of every counterexample).
public enum SetupStep: Hashable, Sendable {
    /// Apply exactly this transition.
    case apply(Transition)
    /// Let the actor take its first enabled transition until it has none
    /// (what that is depends on the profile: ≥3.11 has `ext4_put_io_end`).
    case run(ActorRef)
}

/// A set of actors running concurrently over the model, for `explore`.
///
/// Tasks follow a script: each entry is the transition that *starts* the
/// task's next operation (a write, an fsync, a truncate, a fault, FIFREEZE …);
/// the model supplies the operation's own steps until the task is idle again.
/// The block device (irq), the conversion worker and reclaim take whatever
/// the model says they can. The search interleaves all of them.
public struct Scenario: Sendable {
    public var name: String
    /// One sentence: what races with what.
    public var summary: String
    /// Where the story comes from (seed thread, commit, CVE).
    public var source: String
    /// The rule the scenario is about.
    public var rule: RuleID
    /// Profiles that had the bug, and those that fixed it.
    public var bugProfiles: [KernelProfile]
    public var fixedProfiles: [KernelProfile]
    /// Depth bound (transitions after the set-up) that covers every complete
    /// run of the scenario.
    public var defaultBound: Int
    public var actors: [ScenarioActor]
    /// Who reads a reclaimed folio back (the reclaim actor's second half), if
    /// not the reclaim actor itself: a trace shows the read in the reader's task.
    public var rereader: ScenarioActor?
    /// Task id → the operations it starts, in order.
    public var scripts: [Int: [Transition]]
    public var setup: [SetupStep]
    /// The file system's device and the block where the file's data starts
    /// on it (pblk of lblk 0), for emitted traces.
    public var device: DeviceNumber
    public var dataStartBlock: UInt64
    /// The initial state, before the set-up (mount options follow the profile).
    public var initialState: @Sendable (KernelProfile) -> ModelState

    public init(name: String, summary: String, source: String, rule: RuleID,
                bugProfiles: [KernelProfile], fixedProfiles: [KernelProfile], defaultBound: Int,
                actors: [ScenarioActor], rereader: ScenarioActor? = nil,
                scripts: [Int: [Transition]], setup: [SetupStep] = [],
                device: DeviceNumber, dataStartBlock: UInt64,
                initialState: @escaping @Sendable (KernelProfile) -> ModelState) {
        self.name = name
        self.summary = summary
        self.source = source
        self.rule = rule
        self.bugProfiles = bugProfiles
        self.fixedProfiles = fixedProfiles
        self.defaultBound = defaultBound
        self.actors = actors
        self.rereader = rereader
        self.scripts = scripts
        self.setup = setup
        self.device = device
        self.dataStartBlock = dataStartBlock
        self.initialState = initialState
    }

    /// Task ids with a script, in actor order (the order of program counters).
    public var scriptedTasks: [Int] {
        actors.compactMap { if case .task(let id) = $0.ref, scripts[id] != nil { return id } else { return nil } }
    }

    public func actor(_ ref: ActorRef) -> ScenarioActor? { actors.first { $0.ref == ref } }
}

/// Why a scenario cannot be set up under a profile.
public struct ScenarioError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Scenario {
    /// The initial state with the set-up applied, and the set-up's transitions.
    public func start(_ model: WritebackModel) throws(ScenarioError) -> (state: ModelState, setup: [Step]) {
        var state = initialState(model.profile)
        var steps: [Step] = []
        func take(_ t: Transition) throws(ScenarioError) {
            do {
                let step = try model.apply(t, to: state)
                steps.append(step)
                state = step.state
            } catch {
                throw ScenarioError("scenario \(name): set-up step \(error) under \(model.profile)")
            }
        }
        for s in setup {
            switch s {
            case .apply(let t): try take(t)
            case .run(let actor):
                for _ in 0..<64 {
                    guard let t = model.enabledTransitions(in: state, actors: [actor]).first else { break }
                    try take(t)
                }
            }
        }
        return (state, steps)
    }
}
