import TraceIO
import WritebackModel

/// How sure a finding is. `violated`: the trace proves the ordering.
/// `inconclusive`: the ordering was seen, but events were lost in the window
/// the verdict depends on, or a per-CPU clock cannot order the two events
/// that decide it — a missing event is never proof there.
public enum Verdict: String, Hashable, Sendable {
    case violated
    case inconclusive
}

/// Who acted in a witness event, for the n-column diagram.
public enum ActorKind: String, Hashable, Sendable {
    case task, kworker, irq
}

public struct FindingActor: Hashable, Sendable {
    /// "python3-4739", "kworker/u8:1-32", "irq (cpu 1)".
    public var name: String
    public var kind: ActorKind
}

/// One event of a witness, enough to print it without re-reading the trace.
public struct WitnessEvent: Hashable, Sendable {
    /// Position in the trace's event stream (0-based; LOST records do not count).
    public var index: Int
    public var timestamp: UInt64
    public var cpu: Int
    public var pid: Int32
    public var name: String
    /// What the model did at this event ("io_end 3 submitted", "fsync returned").
    public var role: String
    /// Index into `Finding.actors`.
    public var actor: Int
}

/// One rule broken (or possibly broken) by the trace.
public struct Finding: Hashable, Sendable {
    public var rule: RuleID
    public var verdict: Verdict
    public var dev: DeviceNumber
    public var ino: UInt64
    /// The inode's generation in the trace (0: first incarnation seen).
    public var generation: UInt32
    public var lblk: UInt64
    public var len: UInt64
    public var timestamp: UInt64
    /// The event at which the model saw the rule break.
    public var eventIndex: Int
    /// At most 20 events: the causal chain of the objects involved, in stream order.
    public var witness: [WitnessEvent]
    public var actors: [FindingActor]
    /// One paragraph: what happened, in kernel terms.
    public var explanation: String
    /// Why the verdict is inconclusive, when it is.
    public var inconclusiveReason: String?
    /// The clock the ordering relied on (`local`, `mono`, …; nil: unknown).
    public var clock: String?
    /// The orderings the verdict rests on, and what proves each.
    public var deciding: [DecidingPair] = []
}

/// Two events a verdict depends on: `before` must precede `after`.
public struct DecidingPair: Hashable, Sendable {
    public var before: WitnessEvent
    /// nil: the awaited event never happened in the trace.
    public var after: WitnessEvent?
    public var afterRole: String
    /// What orders them ("happens-before", "same CPU", "global clock",
    /// "clock gap"); nil when nothing does (the finding is then inconclusive).
    public var evidence: String?
}

/// A place where the trace does not fit the profile: the model would not
/// take a transition the trace shows (`NotEnabled`). The replay records it,
/// makes the state agree with the trace, and goes on.
public struct Divergence: Hashable, Sendable {
    public var eventIndex: Int
    public var timestamp: UInt64
    public var kernelFunction: String
    public var kind: ReplayObjectKind
    public var object: String
    public var reason: String
    /// What the profile would do next with this object (kernel functions of
    /// the transitions it allows there).
    public var expected: [String]
    /// What the trace showed instead (the event and the transition it implies).
    public var observed: String
    /// The inode the object belongs to and its name in `ObjectHistory`.
    public var inode: InodeRef? = nil
    public var historyLabel: String? = nil
}
