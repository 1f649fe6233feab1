import TraceIO

/// The rule ids of the checker (its interface; DOMAIN §4), spelled here so
/// that the corpus does not import the code it tests.
public enum InjectedRule: String, CaseIterable, Hashable, Sendable, Codable, CustomStringConvertible {
    case fsyncBeforeConversion = "fsync-before-conversion"
    case staleReadBeforeConversion = "stale-read-before-conversion"
    case truncateDuringConversion = "truncate-during-conversion"
    case evictWithPendingIO = "evict-with-pending-io"
    case writeWhileFrozen = "write-while-frozen"
    case unstablePageWrite = "unstable-page-write"
    case conversionAfterIOError = "conversion-after-io-error"

    public var description: String { rawValue }
}

/// How the two events that decide a case are ordered, by construction.
public enum Ordering: String, CaseIterable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// At least 1 ms apart: any clock orders them.
    case farApart = "a-far-apart"
    /// On different CPUs, about 20 µs apart, no happens-before path between
    /// them: only a global clock orders them.
    case unordered = "b-unordered"
    /// On different CPUs, about 20 µs apart, joined by a happens-before chain
    /// the event graph knows: ordered under any clock.
    case happensBefore = "c-happens-before"

    public var description: String { rawValue }
}

/// The trace clock a case is replayed under.
public enum ClockVariant: String, CaseIterable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The recording's own clock (`local` in trace.dat, unknown in tracefs text, `mono` for wbreplay record).
    case recorded
    /// A global clock (`mono`) written into the metadata: timestamps of different CPUs compare.
    case global
    /// A per-CPU clock: `local` written into the metadata where the recording's was global.
    case perCPU = "per-cpu"

    public var description: String { rawValue }
}

/// One case of the corpus.
public struct CaseID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public var trace: String
    public var rule: InjectedRule
    public var ordering: Ordering
    public var clock: ClockVariant

    public init(trace: String, rule: InjectedRule, ordering: Ordering, clock: ClockVariant) {
        self.trace = trace
        self.rule = rule
        self.ordering = ordering
        self.clock = clock
    }

    public var description: String { "\(trace) \(rule) \(ordering)/\(clock)" }

    /// A file-name-safe form.
    public var slug: String {
        "\(trace)-\(rule)-\(ordering)-\(clock)".replacingOccurrences(of: "/", with: "_")
    }

    public static func < (a: CaseID, b: CaseID) -> Bool { a.description < b.description }

    /// The cases of one trace: every rule, every ordering; the unordered
    /// pair under both a global and a per-CPU clock.
    public static func all(trace: String) -> [CaseID] {
        InjectedRule.allCases.flatMap { rule in
            [CaseID(trace: trace, rule: rule, ordering: .farApart, clock: .recorded),
             CaseID(trace: trace, rule: rule, ordering: .unordered, clock: .global),
             CaseID(trace: trace, rule: rule, ordering: .unordered, clock: .perCPU),
             CaseID(trace: trace, rule: rule, ordering: .happensBefore, clock: .recorded)]
        }
    }
}

/// One of the two events that decide a case, with the events of the same
/// step that a report may name instead (a conversion is four events).
public struct DecidingEvent: Hashable, Sendable, CustomStringConvertible {
    /// Index in the case's event stream (0-based, lost records not counted).
    public var index: Int
    public var name: String
    public var cpu: Int
    public var timestamp: UInt64
    /// (index, name) of the other events of the same step.
    public var sameStep: [Int: String]

    public var description: String { "#\(index) \(name) (cpu \(cpu), \(timestamp) ns)" }

    /// Every index and event name that identifies this step.
    public var identifiers: [(index: Int, name: String)] {
        [(index, name)] + sameStep.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

/// The verdict a case must get.
public enum ExpectedVerdict: String, Hashable, Sendable {
    case violated
    case inconclusive
}

/// What the checker must report on a case: construction guarantees it.
public struct ExpectedFinding: Hashable, Sendable, CustomStringConvertible {
    public var rule: InjectedRule
    public var dev: DeviceNumber
    public var ino: UInt64
    /// The inode's generation as the trace numbers incarnations (0: the
    /// first seen), when the case depends on it.
    public var generation: UInt32?
    /// The blocks the finding must overlap.
    public var blocks: Range<UInt64>
    public var verdict: ExpectedVerdict
    /// The pair whose order makes the bug: `first` happened before `second`
    /// where the kernel's rule needs the opposite.
    public var first: DecidingEvent
    public var second: DecidingEvent
    public var ordering: Ordering

    public var description: String {
        "\(rule) \(verdict) on \(dev) ino \(ino) blocks \(blocks.lowerBound)..<\(blocks.upperBound); deciding \(first) → \(second) [\(ordering)]"
    }
}

/// A trace to replay: records in reader order and the metadata to replay them under.
public struct CaseTrace: Sendable {
    public var records: [TraceRecord]
    public var metadata: TraceMetadata
    /// The device needs stable pages (replay with stable writes).
    public var stableWrites: Bool

    public var eventCount: Int { records.reduce(0) { if case .event = $1 { return $0 + 1 } else { return $0 } } }
}

/// A mutated trace, its legal twin and what construction guarantees.
public struct MutationCase: Sendable {
    public var id: CaseID
    public var bug: CaseTrace
    public var twin: CaseTrace
    public var expected: ExpectedFinding
    /// What was injected, in kernel terms, and which old kernel's code it mirrors.
    public var story: String
    /// What the twin changes to make the same edit legal.
    public var twinStory: String
    /// The source trace, for writing the case out.
    public var sourcePath: String
}

/// A case, or why the trace cannot host it.
public enum CaseOutcome: Sendable {
    case built(MutationCase)
    case skipped(String)
}
