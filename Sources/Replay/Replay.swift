import KernelEvents
import TraceIO
import WritebackModel

/// What `check` may be asked.
public struct ReplayOptions: Sendable {
    /// Use this profile instead of choosing one.
    public var profile: KernelProfile?
    /// Rules to report; empty: all seven.
    public var rules: Set<RuleID>
    /// The device needs stable pages (else: from the recording's `stable_writes`).
    public var stableWrites: Bool
    /// Cross-CPU timestamps closer than this cannot be ordered under a
    /// per-CPU clock (see `TraceReliability.crossCPUBound`).
    public var crossCPUBound: UInt64
    /// Keep the state history of this inode number's objects (`replay --ino`).
    public var historyIno: UInt64?

    public init(profile: KernelProfile? = nil, rules: Set<RuleID> = [], stableWrites: Bool = false,
                crossCPUBound: UInt64 = 100_000, historyIno: UInt64? = nil) {
        self.profile = profile
        self.rules = rules
        self.stableWrites = stableWrites
        self.crossCPUBound = crossCPUBound
        self.historyIno = historyIno
    }
}

/// The result of replaying a trace against the model.
public struct CheckReport: Sendable {
    public var trace: String
    public var choice: ProfileChoice
    public var events: Int
    /// Events the trace says were dropped or overwritten.
    public var lostEvents: UInt64
    public var lostWindows: [TraceReliability.LostWindow]
    public var clock: String?
    public var findings: [Finding]
    /// Where the trace did not fit the chosen profile (first examples) and how often.
    public var divergences: [Divergence]
    public var divergenceCount: Int
    /// The objects of `ReplayOptions.historyIno`, if asked.
    public var histories: [ObjectHistory]
    /// Damaged records the reader skipped (`TraceReader.damagedEvents`).
    public var damagedEvents: Int = 0
    /// How much of the trace's time lies in lost windows (see `LostCoverage`).
    public var lostCoverage = LostCoverage()

    public var violated: Int { findings.filter { $0.verdict == .violated }.count }
    public var inconclusive: Int { findings.filter { $0.verdict == .inconclusive }.count }
}

public enum Replay {
    /// A best-fit replay drops, every this many events, the profiles that
    /// diverged more often than the best so far: a long trace is replayed
    /// under the few profiles that still fit it, not under all seven.
    static let pruneInterval = 250_000

    /// Replays `reader`'s events against the model (every profile when the
    /// trace does not name its kernel and none is given) and returns the
    /// findings of the chosen profile. Throws what the reader throws.
    public static func check(_ reader: some TraceReader, options: ReplayOptions = ReplayOptions()) throws -> CheckReport {
        let meta = reader.metadata
        let stable = options.stableWrites || meta.recording["stable_writes"] == "1"
        let (profiles, given) = ProfileSelection.candidates(requested: options.profile, metadata: meta)
        let dispatcher = profiles.count > 1
            ? try runGroupedCheck(reader, profiles: profiles, stableWrites: stable, historyInode: options.historyIno,
                                  crossCPUBound: options.crossCPUBound, pruneEvery: pruneInterval).dispatcher
            : try run(reader, replays: profiles.map { ProfileReplay(profile: $0, stableWrites: stable, historyInode: options.historyIno) },
                      crossCPUBound: options.crossCPUBound, pruneEvery: pruneInterval)
        var result = finish(dispatcher, trace: reader.path, given: given, options: options, metadata: meta)
        result.damagedEvents = reader.damagedEvents
        return result
    }

    /// The same over records already in memory (tests, generated scenarios).
    public static func check(records: some Sequence<TraceRecord>, metadata: TraceMetadata, trace: String = "",
                             options: ReplayOptions = ReplayOptions()) -> CheckReport {
        let stable = options.stableWrites || metadata.recording["stable_writes"] == "1"
        let (profiles, given) = ProfileSelection.candidates(requested: options.profile, metadata: metadata)
        var dispatcher = ReplayDispatcher(
            replays: profiles.map { ProfileReplay(profile: $0, stableWrites: stable, historyInode: options.historyIno) },
            reliability: TraceReliability(metadata: metadata, crossCPUBound: options.crossCPUBound), metadata: metadata)
        for r in records { dispatcher.add(r) }
        return finish(dispatcher, trace: trace, given: given, options: options, metadata: metadata)
    }

    /// The report of a finished replay, with each loss counted once and the
    /// share of the trace's time the lost windows cover.
    static func finish(_ dispatcher: ReplayDispatcher, trace: String, given: String?, options: ReplayOptions,
                       metadata: TraceMetadata) -> CheckReport {
        var dispatcher = dispatcher
        dispatcher.finishFindings()
        var result = report(dispatcher, trace: trace, given: given, options: options)
        result.lostEvents = lostEventTotal(dispatcher.reliability, metadata: metadata)
        var coverage = dispatcher.front.coverage
        coverage.measure(dispatcher.reliability)
        result.lostCoverage = coverage
        return result
    }

    /// Lost events, each loss counted once: a trace.dat's per-CPU statistics
    /// (`metadata.lostByCPU`) and its missed-events marks describe the same
    /// drops, so per CPU the larger of the two counts is taken (as
    /// `TraceStatistics.include` does), plus what a text header says was
    /// overwritten. (`TraceReliability.lostEventCount` adds both.)
    static func lostEventTotal(_ r: TraceReliability, metadata: TraceMetadata) -> UInt64 {
        var byCPU = metadata.lostByCPU
        var marked: [Int: UInt64] = [:]
        for w in r.windows { marked[w.cpu, default: 0] += w.count ?? 0 }
        for (cpu, n) in marked where n > byCPU[cpu] ?? 0 { byCPU[cpu] = n }
        let written = metadata.entriesWritten ?? 0
        let inBuffer = metadata.entriesInBuffer ?? written
        return byCPU.values.reduce(0, +) + (written > inBuffer ? written - inBuffer : 0)
    }

    static func report(_ d: ReplayDispatcher, trace: String, given: String?, options: ReplayOptions) -> CheckReport {
        let counts = d.replays.map { ($0.profile, $0.divergenceCount) }
        let chosen: ProfileReplay
        let reason: String
        if let given {
            chosen = d.replays[0]
            reason = given
        } else {
            let (p, why) = ProfileSelection.bestFit(d.replays)
            chosen = d.replays.first { $0.profile == p }!
            reason = why + (d.pruned.isEmpty ? "" : "; dropped early: " + d.pruned.map {
                "\($0.profile) (\($0.divergences) divergence(s) in the first \($0.atEvent) events)"
            }.joined(separator: ", "))
        }
        let rules = options.rules.isEmpty ? Set(RuleID.allCases) : options.rules
        let findings = FindingBuilder(reliability: d.reliability, comms: d.comms, names: d.names)
            .findings(from: chosen.findings.filter { rules.contains($0.violation.rule) }, profile: chosen.profile)
        return CheckReport(
            trace: trace,
            choice: ProfileChoice(profile: chosen.profile, reason: reason,
                                  divergences: Dictionary(uniqueKeysWithValues: counts + d.pruned.map { ($0.profile, $0.divergences) })),
            events: d.events, lostEvents: d.reliability.lostEventCount, lostWindows: d.reliability.windows,
            clock: d.reliability.clock, findings: findings, divergences: chosen.divergences,
            divergenceCount: chosen.divergenceCount, histories: chosen.history?.all ?? [])
    }
}
