import KernelEvents
import TraceIO

/// One unwritten io_end of a real trace, from its mapping to its
/// conversion by `ext4_end_io_rsv_work` (fs/ext4/page-io.c, 6.x): the
/// place where the conversion-ordering bugs are injected. Positions are
/// `TraceIndex` event positions.
public struct ConversionSite: Sendable, CustomStringConvertible {
    public var inode: InodeKey
    /// The converted extent (logical blocks, physical start).
    public var extent: ExtentRange
    public var blockSize: UInt64
    /// `ext4_ext_map_blocks_exit` (PRE_IO, mflags U) of the submitter.
    public var mapping: Int
    public var submitter: Int32
    /// `block_bio_queue` of each bio carrying the extent's data.
    public var bioQueues: [Int]
    /// `block_rq_complete` of the data, in stream order; the last one ends the io_end.
    public var completions: [Int]
    /// `workqueue_queue_work` / `activate_work` of the conversion work the run executes.
    public var queueWork: Int
    public var activateWork: Int?
    public var work: UInt64
    /// The worker's run: `workqueue_execute_start` … `workqueue_execute_end`, its events only.
    public var run: [Int]
    public var worker: Int32
    /// The conversion of this extent inside the run: map_blocks_enter CONVERT,
    /// handle_unwritten_extents CONVERT, map_blocks_exit, es_insert_extent W.
    public var conversion: [Int]
    /// `sb_clear_inode_writeback` of the inode in the run, if this io_end ended its writeback.
    public var clearWriteback: Int?
    /// Other extents the same run converts (one run drains every io_end queued).
    public var otherConversions: Int

    public var lastCompletion: Int { completions.last! }
    /// The last completion queued the conversion work (the inode's list was
    /// empty then, `ext4_add_complete_io`); otherwise the io_end joined a list
    /// whose work an earlier completion had queued.
    public var queuedByLastCompletion: Bool { lastCompletion < queueWork }
    public var executeStart: Int { run.first! }
    public var executeEnd: Int { run.last! }
    /// The first conversion event (`ext4_ext_map_blocks_enter` with CONVERT).
    public var convertStart: Int { conversion.first! }
    public var blocks: Range<UInt64> { extent.lblk..<(extent.lblk + extent.len) }

    /// The page-cache pages holding the extent's blocks.
    public var pages: Range<UInt64> {
        let perPage = max(1, 4096 / blockSize)
        let first = extent.lblk / perPage
        let end = (extent.lblk + extent.len + perPage - 1) / perPage
        return first..<end
    }

    /// The last bio completed in the submitter's own context, and the
    /// submitter's put — still to come: its writeback pass of the inode
    /// (`ext4_writepages_result`) ends after the completion — queued the
    /// conversion from that context (`workqueue_queue_work` by the
    /// submitter after the completion): the submitter held the io_end's last
    /// reference when its bios were done.
    func completedWhileSubmitterHeld(_ index: TraceIndex) -> Bool {
        let done = index.events[lastCompletion]
        guard done.pid == submitter, index.events[queueWork].pid == submitter, queueWork > lastCompletion else { return false }
        for i in (lastCompletion + 1)..<index.count where index.events[i].pid == submitter {
            if case .ext4(.writepagesResult(let ref, _)) = index.typed[i], ref == inode { return true }
            if case .syscall = index.typed[i] { return false }
        }
        return false
    }

    public var description: String {
        "\(inode) blocks \(extent.lblk)+\(extent.len) (pblk \(extent.pblk)), converted at event \(convertStart)"
    }
}

/// Finds every conversion site of a trace: an extent mapped unwritten for
/// I/O (PRE_IO, mflags U), whose bios all completed, converted by one run
/// of the inode's conversion work that the last completion queued.
public enum SiteFinder {
    static let conversionWork = "ext4_end_io_rsv_work"

    private struct Submission {
        var mapping: Int
        var pid: Int32
        var inode: InodeKey
        var extent: ExtentRange
        var sectors: SectorRange?
        var bios: [Int] = []
        var covered: UInt64 = 0
        var completions: [Int] = []
    }

    private struct Run {
        var start: Int
        var work: UInt64
        var events: [Int] = []
        var converts: [(inode: InodeKey, lblk: UInt64, len: UInt64, events: [Int], pblk: UInt64?)] = []
        var clears: [(InodeKey, Int)] = []
    }

    public static func sites(in index: TraceIndex) -> [ConversionSite] {
        var subs: [Submission] = []
        var awaitingBio: [Int32: [Int]] = [:]
        /// Submissions with bios not yet completed.
        var inFlight: [Int] = []
        var queued: [UInt64: (queue: Int, activate: Int?)] = [:]
        var runs: [Int32: Run] = [:]
        var found: [ConversionSite] = []

        for i in 0..<index.count {
            let e = index.events[i]
            if var run = runs[e.pid] {
                run.events.append(i)
                switch index.typed[i] {
                case .ext4(.mapBlocksEnter(let ref, let lblk, let len, let flags)) where flags.contains(.convert):
                    run.converts.append((ref, lblk, len, [i], nil))
                case .ext4(.handleUnwritten(let ref, let flags, let extent)) where flags.contains(.convert):
                    if let k = run.converts.lastIndex(where: { $0.inode == ref }) {
                        run.converts[k].events.append(i)
                        run.converts[k].pblk = extent.pblk &- (extent.lblk &- run.converts[k].lblk)
                    }
                case .ext4(.mapBlocksExit(let ref, let flags, let extent, _, _)) where flags.contains(.convert):
                    if let k = run.converts.lastIndex(where: { $0.inode == ref }) {
                        run.converts[k].events.append(i)
                        if extent.pblk > 0 { run.converts[k].pblk = extent.pblk &- (extent.lblk &- run.converts[k].lblk) }
                    }
                case .ext4(.extentStatusInsert(let ref, _, let status)) where status.contains(.written):
                    if let k = run.converts.lastIndex(where: { $0.inode == ref }) { run.converts[k].events.append(i) }
                case .writeback(.clearInodeWriteback(let ref)):
                    run.clears.append((ref, i))
                case .workqueue(.executeEnd(let key)) where key.work == run.work:
                    runs[e.pid] = nil
                    found += sites(from: run, worker: e.pid, subs: subs, queued: queued, index: index)
                    continue
                default: break
                }
                runs[e.pid] = run
                continue
            }
            switch index.typed[i] {
            case .ext4(.mapBlocksExit(let ref, let flags, let extent, let result, let ret))
                where ret > 0 && flags.contains(.preIO) && result.contains(.unwritten):
                let g = index.geometries[ref.dev]
                subs.append(Submission(mapping: i, pid: e.pid, inode: ref, extent: extent,
                                       sectors: g?.sectors(pblk: extent.pblk, len: extent.len)))
                awaitingBio[e.pid, default: []].append(subs.count - 1)
            case .block(.bioQueue(let io)) where io.rwbs.operation == .write && io.range.count > 0:
                guard var list = awaitingBio[e.pid] else { break }
                list.removeAll { s in
                    guard let sectors = subs[s].sectors, sectors.overlaps(io.range) else { return false }
                    subs[s].bios.append(i)
                    subs[s].covered += sectors.overlapCount(io.range)
                    if !inFlight.contains(s) { inFlight.append(s) }
                    return subs[s].covered >= sectors.count
                }
                awaitingBio[e.pid] = list.isEmpty ? nil : list
            case .block(.requestComplete(let io, _)) where io.rwbs.operation == .write && io.range.count > 0:
                for s in inFlight where subs[s].sectors?.overlaps(io.range) == true {
                    subs[s].completions.append(i)
                }
            case .workqueue(.queue(let key, _)) where key.function == conversionWork:
                queued[key.work] = (i, nil)
            case .workqueue(.activate(let key)):
                // Before 6.2 `workqueue_activate_work` prints no function:
                // the work address of a pending conversion queueing names it.
                if let q = queued[key.work], q.activate == nil,
                   key.function.isEmpty || key.function == conversionWork { queued[key.work]!.activate = i }
            case .workqueue(.executeStart(let key)) where key.function == conversionWork:
                runs[e.pid] = Run(start: i, work: key.work, events: [i])
            default: break
            }
        }
        return found
    }

    /// The sites of a finished run: each extent it converted whose
    /// submission, bios and completions are all in the trace.
    private static func sites(from run: Run, worker: Int32, subs: [Submission],
                              queued: [UInt64: (queue: Int, activate: Int?)], index: TraceIndex) -> [ConversionSite] {
        guard let q = queued[run.work], q.queue < run.start else { return [] }
        var sites: [ConversionSite] = []
        for c in run.converts where c.events.count >= 3 {
            guard let pblk = c.pblk, let g = index.geometries[c.inode.dev] else { continue }
            let extent = ExtentRange(lblk: c.lblk, pblk: pblk, len: c.len)
            guard let sub = subs.last(where: { s in
                s.inode == c.inode && s.mapping < run.start && s.extent.overlapsLogical(extent)
                    && s.extent.pblk &- s.extent.lblk == pblk &- c.lblk
            }), let sectors = sub.sectors, !sub.bios.isEmpty, sub.covered >= sectors.count,
                  let last = sub.completions.last(where: { $0 < run.start }),
                  sub.extent.lblk == extent.lblk, sub.extent.len == extent.len else { continue }
            sites.append(ConversionSite(
                inode: c.inode, extent: extent, blockSize: g.blockSize, mapping: sub.mapping, submitter: sub.pid,
                bioQueues: sub.bios, completions: sub.completions.filter { $0 <= last }, queueWork: q.queue,
                activateWork: q.activate, work: run.work, run: run.events, worker: worker, conversion: c.events,
                clearWriteback: run.clears.first { $0.0 == c.inode }?.1, otherConversions: run.converts.count - 1))
        }
        return sites
    }
}
