import KernelEvents
import TraceIO

/// Builds the cases of the corpus: for a case id, the first site of the
/// trace where the rule's injection fits, or why none does.
public enum CaseMaker {
    /// How many sites are tried before giving up (spread over the trace).
    static let siteBudget = 24

    public static func make(_ id: CaseID, index: TraceIndex, templates: TemplateBook) -> CaseOutcome {
        if let why = lossReason(index) { return .skipped(why) }
        let factory = EventFactory(book: templates)
        var reasons: [String] = []
        do {
            switch id.rule {
            case .fsyncBeforeConversion, .truncateDuringConversion, .evictWithPendingIO,
                 .staleReadBeforeConversion, .conversionAfterIOError, .unstablePageWrite:
                let sites = SiteFinder.sites(in: index)
                guard !sites.isEmpty else { return .skipped(noSiteReason(index)) }
                for site in spread(sites) {
                    do {
                        return .built(try make(id, site: site, index: index, factory: factory))
                    } catch let u as Unhostable {
                        reasons.append("\(site): \(u)")
                    }
                }
            case .writeWhileFrozen:
                return .built(try WriteWhileFrozen.make(id, index: index, factory: factory))
            }
        } catch let u as Unhostable {
            return .skipped(u.description)
        } catch {
            reasons.append("\(error)")
        }
        return .skipped("no site of the trace can host it; " + summary(reasons))
    }

    static func make(_ id: CaseID, site: ConversionSite, index: TraceIndex, factory: EventFactory) throws -> MutationCase {
        switch id.rule {
        case .fsyncBeforeConversion: return try FsyncBeforeConversion.make(id, site: site, index: index, factory: factory)
        case .truncateDuringConversion: return try TruncateDuringConversion.make(id, site: site, index: index, factory: factory)
        case .staleReadBeforeConversion: return try StaleReadBeforeConversion.make(id, site: site, index: index, factory: factory)
        case .evictWithPendingIO: return try EvictWithPendingIO.make(id, site: site, index: index, factory: factory)
        case .conversionAfterIOError: return try ConversionAfterIOError.make(id, site: site, index: index, factory: factory)
        case .unstablePageWrite: return try UnstablePageWrite.make(id, site: site, index: index, factory: factory)
        case .writeWhileFrozen: throw Unhostable("internal: not a conversion rule")
        }
    }

    /// At most `siteBudget` sites, evenly spread (dense traces have hundreds).
    static func spread(_ sites: [ConversionSite]) -> [ConversionSite] {
        guard sites.count > siteBudget else { return sites }
        return (0..<siteBudget).map { sites[$0 * sites.count / siteBudget] }
    }

    static func summary(_ reasons: [String]) -> String {
        guard let first = reasons.first else { return "no reason recorded" }
        return reasons.count == 1 ? first : "\(reasons.count) sites tried, e.g. \(first)"
    }

    /// A recording that lost events hosts no case: a lost window can hide
    /// a recorded task's syscall exit or a work's queueing, so no edit can
    /// be shown plausible (a task re-entering a syscall it never left), and
    /// the replay rightly calls a twin inconclusive wherever a lost window
    /// touches it. The lost-event handling itself is tested on these
    /// recordings by ReplayTests.
    static func lossReason(_ index: TraceIndex) -> String? {
        let lost = index.lostWindows.count
        let overwritten = index.source.metadata.lostByCPU.values.contains { $0 > 0 }
        guard lost > 0 || overwritten else { return nil }
        return "the recording lost events (\(lost) lost window\(lost == 1 ? "" : "s")\(overwritten ? ", an overwritten ring buffer" : "")): a lost window may hide a syscall's exit or a work's queueing, so no edit of it can be shown plausible"
    }

    /// Why a trace has no conversion site at all.
    static func noSiteReason(_ index: TraceIndex) -> String {
        let converts = index.typed.contains { k in
            if case .ext4(.mapBlocksEnter(_, _, _, let f)) = k { return f.contains(.convert) }
            return false
        }
        if converts {
            return "its unwritten extents are converted only inline by their writer (O_DIRECT writes, iomap's ext4_dio_write_end_io), never by a deferred io_end"
        }
        return "no unwritten extent is converted in it (writeback allocates written blocks, e.g. dioread_lock): no io_end awaits conversion"
    }

    /// Turns two finished scenarios into a case.
    static func assemble(_ id: CaseID, bug: Scenario, twin: Scenario, site: ConversionSite?, rule: InjectedRule,
                         dev: DeviceNumber? = nil, ino: UInt64? = nil, generation: UInt32? = nil,
                         blocks: Range<UInt64>, story: String, twinStory: String,
                         windowStart: UInt64? = nil, stableWrites: Bool = false) throws -> MutationCase {
        var (records, tags) = bug.finish()
        var (twinRecords, _) = twin.finish()
        var meta = bug.index.source.metadata
        var twinMeta = meta
        // The edited trace no longer matches the file's event counts.
        meta.entriesWritten = nil
        meta.entriesInBuffer = nil
        twinMeta.entriesWritten = nil
        twinMeta.entriesInBuffer = nil
        if let w = bug.index.source.metadata.entriesWritten, let b = bug.index.source.metadata.entriesInBuffer, w > b {
            throw Unhostable("the ring buffer overwrote events before this trace's first one")
        }
        CaseAssembly.apply(id.clock, to: &meta, records: &records)
        CaseAssembly.apply(id.clock, to: &twinMeta, records: &twinRecords)
        let same = { (prefix: String) in tags.keys.filter { $0.hasPrefix(prefix) } }
        guard let first = CaseAssembly.deciding(Scenario.firstDeciding, sameStep: same("first."), records: records, tags: tags),
              let second = CaseAssembly.deciding(Scenario.secondDeciding, sameStep: same("second."), records: records, tags: tags)
        else { throw Unhostable("internal: a deciding event was not tagged") }
        let inode = site?.inode
        let expected = ExpectedFinding(
            rule: rule, dev: dev ?? inode!.dev, ino: ino ?? inode!.ino, generation: generation, blocks: blocks,
            verdict: CaseAssembly.verdict(id.ordering, id.clock, recordedClock: bug.index.source.metadata.clock),
            first: first, second: second, ordering: id.ordering)
        try checkOrdering(expected, id.ordering)
        // A lost event anywhere the verdict looks would make it inconclusive whatever the order.
        let from = windowStart ?? site.map { bug.index.timestamp($0.mapping) } ?? first.timestamp
        if bug.index.lossTouches(from: min(from, first.timestamp), to: second.timestamp + 1_000_000) {
            throw Unhostable("the ring buffer lost events in the case's window")
        }
        return MutationCase(
            id: id, bug: CaseTrace(records: records, metadata: meta, stableWrites: stableWrites),
            twin: CaseTrace(records: twinRecords, metadata: twinMeta, stableWrites: stableWrites),
            expected: expected, story: story, twinStory: twinStory, sourcePath: bug.index.source.path)
    }

    /// The deciding pair is where the ordering says it is.
    static func checkOrdering(_ e: ExpectedFinding, _ ordering: Ordering) throws {
        guard e.first.index < e.second.index, e.first.timestamp <= e.second.timestamp else {
            throw Unhostable("internal: the deciding events are out of order (\(e.first), \(e.second))")
        }
        let gap = e.second.timestamp - e.first.timestamp
        switch ordering {
        case .farApart:
            guard gap >= 1_000_000 else { throw Unhostable("internal: deciding events only \(gap) ns apart") }
        case .unordered, .happensBefore:
            guard e.first.cpu != e.second.cpu, gap <= 50_000 else {
                throw Unhostable("internal: deciding events \(gap) ns apart on CPUs \(e.first.cpu), \(e.second.cpu)")
            }
        }
    }
}
