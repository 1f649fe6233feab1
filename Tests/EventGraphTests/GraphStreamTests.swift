import KernelEvents
import Testing
import TraceIO
@testable import EventGraph

/// Every event of a record stream with what the graph stream bound at it.
struct StreamRun {
    struct Row {
        var stamp: StreamStamp
        var name: String
        var event: KernelEvent?
        var links: EventLinks
        var edges: [Edge]
    }

    var rows: [Row] = []
    var window = HappensBeforeWindow(capacity: 1 << 22)
    /// The stream's summary after the last record.
    var summary: StreamSummary!

    init(_ records: some Sequence<TraceRecord>, metadata: TraceMetadata? = nil, summaryOnly: Bool = false) {
        var stream = metadata.map { GraphStream(countsObjects: !summaryOnly, keepsUnlinked: !summaryOnly, metadata: $0) }
            ?? GraphStream(countsObjects: !summaryOnly, keepsUnlinked: !summaryOnly)
        var decoder = KernelEventDecoder()
        for r in records {
            switch r {
            case .lost(let l): stream.lost(l)
            case .event(let e):
                let stamp = StreamStamp(index: rows.count, timestamp: e.timestamp, cpu: e.cpu, pid: e.pid)
                let typed: KernelEvent?
                if case .other = decoder.decode(e) { typed = nil } else { typed = decoder.decode(e) }
                let links = stream.add(stamp, typed)
                let edges = stream.takeEdges()
                window.add(stamp, edges: edges)
                rows.append(Row(stamp: stamp, name: e.name, event: typed, links: links, edges: edges))
            }
        }
        summary = stream.finish()
    }

    static func sample(_ name: String, _ ext: String, summaryOnly: Bool = false) throws -> StreamRun {
        let reader = try Samples.reader(Samples.path(name, ext))
        var records: [TraceRecord] = []
        try reader.forEach(ReadOptions(fields: .named(KernelEventDecoder.fieldsUsed), keepRawText: false)) { records.append($0) }
        return StreamRun(records, metadata: reader.metadata, summaryOnly: summaryOnly)
    }
}

@Suite struct GraphStreamTests {
    static let cases: [(String, String)] = Samples.names.flatMap { n in Samples.formats.map { (n, $0) } }

    /// Counting the distinct inodes and folios and keeping the unlinked
    /// events' details (what only `stats` and the whole graph report) binds
    /// nothing: without them — the replay's binder, `why`, an excerpt — the
    /// stream names the same inodes and finds the same edges, counts the same
    /// unlinked events, and its summary lacks only the inode and folio
    /// counts and the kept unlinked events.
    @Test(arguments: Samples.names.map { ($0, "dat") } + [("lost-events/lost_events", "dat")])
    func summaryStateChangesNoBinding(name: String, ext: String) throws {
        let counted = try StreamRun.sample(name, ext)
        let uncounted = try StreamRun.sample(name, ext, summaryOnly: true)
        #expect(counted.rows.map(\.edges) == uncounted.rows.map(\.edges))
        #expect(counted.rows.map(\.links.inode) == uncounted.rows.map(\.links.inode))
        var objects = counted.summary.objects
        #expect((objects[.inode] ?? 0) > 0 && (objects[.folio] ?? 0) > 0)
        #expect(uncounted.summary.objects[.inode] == nil && uncounted.summary.objects[.folio] == nil)
        objects[.inode] = nil
        objects[.folio] = nil
        #expect(objects == uncounted.summary.objects)
        #expect(uncounted.summary.unlinkedCounts == counted.summary.unlinkedCounts)
        #expect(uncounted.summary.unlinked.isEmpty)
        let total = counted.summary.unlinkedCounts.values.reduce(0) { $0 + $1.total }
        #expect(counted.summary.unlinked.count == min(total, UnlinkedLog.keptLimit))
        if name.hasPrefix("lost-events") { #expect(total > 0) }
    }

    /// A conversion run is always the CONVERT's inode's: the graph binds its
    /// work item to that inode at the latest at the CONVERT, by evidence
    /// from the trace, and never to another inode.
    @Test(arguments: cases)
    func conversionRunsAreBoundToTheirInode(name: String, ext: String) throws {
        let run = try StreamRun.sample(name, ext)
        var owner: [Int32: WorkOwner] = [:]
        var converts = 0
        for row in run.rows {
            switch row.links.binding {
            case .workStarted(let w): owner[row.stamp.pid] = w.owner
            case .workOwnerLearned(let w): owner[row.stamp.pid] = w.owner
            case .workEnded: owner[row.stamp.pid] = nil
            default: break
            }
            guard case .ext4(.handleUnwritten(_, let flags, _))? = row.event, flags.contains(.convert),
                  let running = owner[row.stamp.pid] else { continue }
            converts += 1
            guard case .inode(let id, _) = running else {
                Issue.record("CONVERT at \(row.stamp.index) in a run bound to no inode")
                continue
            }
            #expect(id == row.links.inode, "CONVERT at \(row.stamp.index) of \(String(describing: row.links.inode)) in a run of \(id)")
        }
        if name != "dio_truncate" && name != "punch_after_writeback" { #expect(converts > 0) }
    }

    /// Every write bio queued inside a writeback pass carries that pass's
    /// inode, and every completion hands back bios that were queued.
    @Test(arguments: cases)
    func writeBiosCarryTheirPassInode(name: String, ext: String) throws {
        let run = try StreamRun.sample(name, ext)
        var pass: [Int32: InodeID] = [:]
        var queued: Set<BioID> = []
        var owned = 0
        var passes = 0
        for row in run.rows {
            switch row.event {
            case .ext4(.writepages)?:
                pass[row.stamp.pid] = row.links.inode
                passes += 1
            case .ext4(.writepagesResult)?: pass[row.stamp.pid] = nil
            default: break
            }
            switch row.links.binding {
            case .bioQueued(let bio):
                queued.insert(bio.id)
                #expect(bio.id == row.stamp.index)
                if let inode = pass[row.stamp.pid], case .block(.bioQueue(let io))? = row.event, io.rwbs.operation == .write {
                    #expect(bio.owner == inode)
                    owned += 1
                }
            case .bioCompleted(let done):
                for d in done { #expect(queued.remove(d.bio.id) != nil, "completion at \(row.stamp.index) of a bio not in flight") }
            default: break
            }
        }
        // dio_truncate's passes find nothing to write (its writes are direct).
        if name != "dio_truncate" { #expect(owned > 0, "\(passes) writeback passes, no write bio owned") }
    }

    /// The window answers what the whole graph answers, for events it holds.
    @Test(arguments: [("fsync_unwritten", "dat"), ("rename_over_dirty", "txt"), ("reclaim_reread", "dat")])
    func windowAgreesWithTheWholeGraph(name: String, ext: String) throws {
        let run = try StreamRun.sample(name, ext)
        let graph = try Samples.graph(name, ext)
        // Pairs around every cross-task edge: cause → a later event of the target's task, and back.
        var checked = 0
        for row in run.rows where !row.edges.isEmpty {
            for e in row.edges {
                for b in [e.to, min(e.to + 7, run.rows.count - 1), min(e.to + 300, run.rows.count - 1)] {
                    for a in [e.from, max(0, e.from - 5)] {
                        #expect(run.window.isBefore(a, b) == graph.isBefore(a, b), "isBefore(\(a), \(b))")
                        #expect(run.window.isBefore(b, a) == graph.isBefore(b, a), "isBefore(\(b), \(a))")
                        checked += 1
                    }
                }
            }
            if checked > 3000 { break }
        }
        #expect(checked > 100)
    }

    @Test func windowForgetsWhatLeftIt() {
        var w = HappensBeforeWindow(capacity: 16)
        for i in 0..<40 {
            w.add(StreamStamp(index: i, timestamp: UInt64(i), cpu: i % 2, pid: Int32(100 + i % 2)),
                  edges: i > 0 && i % 5 == 0 ? [Edge(from: i - 1, to: i, kind: .blockIO)] : [])
        }
        #expect(w.isBefore(3, 39) == nil)
        #expect(w.isBefore(30, 39) == true)   // 30, 32, 34 (task 100) → the edge 34 → 35 → 37, 39 (task 101)
        #expect(w.isBefore(34, 35) == true)   // the edge 34 → 35
        #expect(w.isBefore(35, 34) == false)
        #expect(w.isBefore(33, 34) == false)  // other task, before the edge at 35
    }
}

@Suite struct WorkBindingTests {
    /// A conversion work item of a file system that was not traced: no
    /// completion of a traced bio before its queueing, no ext4 event inside
    /// its run. Never taken for the traced inode that has work pending.
    @Test func foreignWorkIsNeverBound() {
        var s = Synthetic()
        _ = s.conversionStory(lblk: 0, pblk: 1000, work: 0xAAAA)
        s.work("workqueue_queue_work", pid: 14, cpu: 1, work: 0xF00D)
        s.work("workqueue_execute_start", pid: 51, cpu: 1, work: 0xF00D)
        s.work("workqueue_execute_end", pid: 51, cpu: 1, work: 0xF00D)
        let run = StreamRun(s.records)
        let bound = run.rows.compactMap { row -> BoundWork? in
            if case .workStarted(let w) = row.links.binding { return w }
            return nil
        }
        #expect(bound.count == 2)
        #expect(bound.first { $0.key.work == 0xF00D }?.owner == .unknown)
    }

    /// `ext4_end_bio` queues the conversion work right after the completion,
    /// in the same irq handler: the work is the completed bio's inode's —
    /// if the bio came from the inode's writeback pass. A direct-I/O bio
    /// completes through iomap and queues no ext4 work: the same story
    /// without the pass names nobody.
    @Test(arguments: [true, false])
    func workQueuedByACompletionIsItsInodes(_ writeback: Bool) throws {
        var s = Synthetic()
        if writeback { s.add("ext4_writepages", pid: 100, [("dev", s.d), ("ino", .unsigned(12)), ("sync_mode", .signed(0))]) }
        let story = s.conversionStory(lblk: 0, pblk: 1000)
        let run = StreamRun(s.records)
        guard case .workQueued(let w) = run.rows[story.queue].links.binding else {
            Issue.record("no work bound at the queueing")
            return
        }
        let inode = try #require(run.rows[story.convert].links.inode)
        let edge = Edge(from: story.complete, to: story.queue, kind: .bioConversion)
        if writeback {
            #expect(w.owner == .inode(inode, .queuedByCompletion))
            #expect(run.rows[story.queue].edges.contains(edge))
        } else {
            #expect(w.owner == .unknown)
            #expect(!run.rows[story.queue].edges.contains(edge))
        }
    }

    /// Another work item queued between the completion and the queueing is
    /// not ext4_end_bio's path; and once an inode's own work struct is known,
    /// another struct queued after its completion is another file system's.
    @Test func onlyTheInodesOwnStructFollowsItsCompletion() throws {
        var s = Synthetic()
        s.add("ext4_writepages", pid: 100, [("dev", s.d), ("ino", .unsigned(12)), ("sync_mode", .signed(0))])
        _ = s.conversionStory(lblk: 0, pblk: 1000, work: 0xBEEF)
        s.add("ext4_writepages", pid: 100, [("dev", s.d), ("ino", .unsigned(12)), ("sync_mode", .signed(0))])
        _ = s.mapExitPreIO(lblk: 1, pblk: 1001)
        s.block("block_bio_queue", sector: 1001 * 8, nr: 8)
        s.block("block_rq_issue", sector: 1001 * 8, nr: 8)
        s.block("block_rq_complete", pid: 14, sector: 1001 * 8, nr: 8)
        let foreign = s.work("workqueue_queue_work", pid: 14, work: 0xF00D)
        let run = StreamRun(s.records)
        guard case .workQueued(let w) = run.rows[foreign].links.binding else {
            Issue.record("no work bound at the queueing")
            return
        }
        #expect(w.owner == .unknown)
    }

    /// The work struct lives in the inode: after the inode is freed its
    /// address names nobody until a run shows whose it is now.
    @Test func freedInodeReleasesItsWorkStruct() throws {
        var s = Synthetic()
        _ = s.conversionStory(lblk: 0, pblk: 1000, work: 0xCAFE)
        s.inodeEvent("ext4_free_inode", pid: 100, ino: 12)
        s.work("workqueue_queue_work", pid: 14, cpu: 1, work: 0xCAFE)
        s.work("workqueue_execute_start", pid: 51, cpu: 1, work: 0xCAFE)
        let run = StreamRun(s.records)
        guard case .workStarted(let w) = run.rows.last!.links.binding else {
            Issue.record("no work started")
            return
        }
        #expect(w.owner == .unknown)
    }
}
