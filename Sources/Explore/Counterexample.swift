import WritebackModel

/// A schedule that breaks a rule: the set-up, then the explored steps, the
/// last of which broke it.
public struct Counterexample: Sendable {
    public var scenario: String
    public var profile: KernelProfile
    public var rule: RuleID
    /// The violation the last step reported.
    public var violation: RuleViolation
    /// Deterministic set-up steps (not part of the search).
    public var setup: [Step]
    /// The searched steps, shortest first found; the last one breaks `rule`.
    public var steps: [Step]
    /// What the actors do after the violation when each in turn takes its
    /// first step, until all are done (the late conversion of seed 002's
    /// diagrams): emitted traces end with it, as a recording would.
    public var completion: [Step] = []
    /// When the search found it: seconds since it started, and states by then.
    public var foundAfterSeconds: Double = 0
    public var statesWhenFound: Int = 0

    /// Set-up and search, in order.
    public var allSteps: [Step] { setup + steps }
}

/// The seeds' way of showing a race: one column per actor, time going down.
/// Rows are built here as values; rendering belongs to the CLI's formatters.
public struct ColumnDiagram: Sendable {
    public struct Row: Sendable {
        /// Column index of the actor that took the step.
        public var column: Int
        public var text: String
        public var isSetup: Bool
        /// Rules this step broke.
        public var broke: [RuleID]
    }

    public var columns: [String]
    public var rows: [Row]

    public init(_ c: Counterexample, scenario: Scenario) {
        var refs: [ActorRef] = []
        for step in c.allSteps where !refs.contains(step.transition.actor) { refs.append(step.transition.actor) }
        let ordered = scenario.actors.map(\.ref).filter(refs.contains) + refs.filter { r in !scenario.actors.contains { $0.ref == r } }
        columns = ordered.map { ref in
            if let a = scenario.actor(ref) { return "\(a.role) (\(a.comm))" }
            return "\(ref)"
        }
        rows = c.allSteps.enumerated().map { i, step in
            Row(column: ordered.firstIndex(of: step.transition.actor) ?? 0,
                text: Self.label(step.transition),
                isSetup: i < c.setup.count,
                broke: step.violations.map(\.rule))
        }
    }

    /// The kernel function, with the object it acts on where that helps.
    public static func label(_ t: Transition) -> String {
        let f = t.kernelFunction
        switch t {
        case .ext4DaWriteBegin(_, let folio), .ext4PageMkwrite(_, let folio), .userStore(_, let folio),
             .filemapFault(_, let folio), .zapPteRange(_, let folio), .mpageSubmitFolio(_, let folio),
             .ext4BioWriteFolio(_, let folio), .shrinkFolioList(let folio), .ext4ReadFolio(_, let folio):
            return "\(f) #\(folio.index)"
        case .ext4IoSubmit(_, let io), .ext4PutIoEnd(_, let io), .ext4AddCompleteIo(let io), .ext4EndIoWork(let io),
             .ext4ConvertUnwrittenIoEndVec(let io), .ext4ReleaseIoEnd(let io):
            return "\(f) io\(io.serial)"
        case .ext4EndBio(let b, let error):
            return "\(f) io\(b.ioEnd.serial)\(error ? " EIO" : "")"
        case .ext4SyncFile(_, _, let datasync):
            return datasync ? "ext4_sync_file (fdatasync)" : "ext4_sync_file (fsync)"
        case .ext4Setattr(_, _, let size):
            return "\(f) size→\(size)"
        case .ext4PunchHole(_, _, let r, _):
            return "\(f) \(r)"
        default:
            return f
        }
    }
}
