import TraceIO
import WritebackModel

/// The named scenarios `wbreplay explore --scenario NAME` runs. Each one
/// sets up the objects of one seed story on a loop device (7:0), inode 12,
/// and lets the actors of that story race.
public enum BuiltinScenarios {
    public static var all: [Scenario] {
        [fsyncVsConversion, flushVsWorkerDrain, reclaimBeforeConversion, truncateVsConversion,
         freezeVsMmap, mkwriteVsWriteback, evictVsRsvWork, ioErrorVsConversion]
    }

    public static func named(_ name: String) -> Scenario? { all.first { $0.name == name } }

    // MARK: Objects and actors shared by the scenarios

    static let dev = DeviceNumber(major: 7, minor: 0)
    static let inode = InodeRef(dev: dev, ino: 12, generation: 1)
    static func folio(_ index: UInt64) -> FolioRef { FolioRef(inode: inode, index: index) }
    /// Where the file's blocks sit on the device (pblk of lblk 0).
    static let dataStart: UInt64 = 34816

    static let irq = ScenarioActor(.blockDevice, role: "irq", comm: "ksoftirqd/0", pid: 14, cpu: 0)
    static let worker = ScenarioActor(.worker, role: "kworker", comm: "kworker/u8:3", pid: 2425, cpu: 1)
    static let flusher = ScenarioActor(.task(3), role: "flusher", comm: "kworker/u8:1", pid: 32, cpu: 0)

    /// A file of `blocks` blocks, fallocated (unwritten), nothing cached.
    static func fallocated(_ profile: KernelProfile, blocks: UInt64 = 1) -> ModelState {
        var s = ModelState()
        s.mount(dev, SuperblockState(defaultsOf: profile))
        s.addInode(inode, sizeBlocks: blocks)
        s.setExtent(inode, BlockRange(lblk: 0, len: blocks), .unwritten)
        return s
    }

    /// One block in `extent` state under a dirty folio 0, on a device whose
    /// writes may fail.
    static func dirtyOverFailingDevice(_ profile: KernelProfile, _ extent: ExtentState) -> ModelState {
        var s = ModelState()
        var sb = SuperblockState(defaultsOf: profile)
        sb.ioErrorsPossible = true
        s.mount(dev, sb)
        s.addInode(inode, sizeBlocks: 1)
        s.setExtent(inode, BlockRange(lblk: 0, len: 1), extent)
        s.addFolio(folio(0), dirty: true)
        return s
    }

    /// Block 0 fallocated and folio 0 dirtied by write(2), not yet written back.
    static func dirtyOverUnwritten(_ profile: KernelProfile) -> ModelState {
        var s = fallocated(profile)
        s.addFolio(folio(0), dirty: true)
        return s
    }

    // MARK: Seed 002

    /// Dmitry Monakhov's diagrams: write into a fallocated block, fsync,
    /// against the completion and the conversion worker. 3.6: the bio's
    /// writeback ends in `ext4_end_bio` before `ext4_add_complete_io`, so
    /// `ext4_flush_completed_IO` may see an empty list; the V4 patch adds
    /// the worker's `list_replace_init`; 3.7 waits for `i_unwritten`; 3.11+
    /// ends writeback only after the conversion.
    public static let fsyncVsConversion = Scenario(
        name: "fsync-vs-conversion",
        summary: "write(2) into two fallocated blocks, then fsync, racing the flusher, the bio completions and the conversion worker",
        source: "seed 002 (Monakhov, Kara 2012): the fsync diagrams before and with the V4 patch",
        rule: .fsyncBeforeConversion,
        bugProfiles: [.ext4_3_6, .ext4_3_7_v4], fixedProfiles: [.ext4_3_7, .ext4_3_11, .ext4_5_10, .ext4_6_12, .ext4_6_x],
        defaultBound: 40,
        actors: [ScenarioActor(.task(1), role: "fsync", comm: "xfs_io", pid: 4739, cpu: 1), flusher, irq, worker],
        scripts: [1: [.ext4DaWriteBegin(task: 1, folio(0)), .ext4DaWriteBegin(task: 1, folio(1)),
                      .ext4SyncFile(task: 1, inode, datasync: false)],
                  3: [.ext4Writepages(task: 3, inode, syncAll: false)]],
        device: dev, dataStartBlock: dataStart,
        initialState: { fallocated($0, blocks: 2) })

    /// Jan Kara's CPU1/CPU2 against the V4 patch: the worker has taken the
    /// list (`list_replace_init`) when truncate's `ext4_flush_completed_IO`
    /// looks, sees it empty, and frees blocks whose conversion is pending.
    public static let flushVsWorkerDrain = Scenario(
        name: "flush-vs-worker-drain",
        summary: "a completed unwritten io_end on the list; the worker drains it while truncate flushes",
        source: "seed 002: Jan Kara's review of \"completed_io locking cleanup V4\"",
        rule: .truncateDuringConversion,
        bugProfiles: [.ext4_3_7_v4], fixedProfiles: [.ext4_3_7, .ext4_5_10, .ext4_6_12, .ext4_6_x],
        defaultBound: 16,
        actors: [ScenarioActor(.task(2), role: "truncate", comm: "truncate", pid: 4802, cpu: 0), worker, flusher, irq],
        scripts: [2: [.ext4Setattr(task: 2, inode, newSizeBlocks: 0)]],
        setup: [.apply(.ext4Writepages(task: 3, inode, syncAll: false)), .run(.task(3)), .run(.blockDevice)],
        device: dev, dataStartBlock: dataStart,
        initialState: { dirtyOverUnwritten($0) })

    /// TEST_CASE1 of the V4 patch: fallocate, write, truncate — the flusher's
    /// writeback of the fallocated range against truncate. On 3.6 truncate's
    /// flush runs between `end_page_writeback` and `ext4_add_complete_io`.
    public static let truncateVsConversion = Scenario(
        name: "truncate-vs-conversion",
        summary: "the flusher writes a fallocated block while truncate removes it",
        source: "seed 002: TEST_CASE1 (fallocate, aio-stress, truncate -s 0)",
        rule: .truncateDuringConversion,
        bugProfiles: [.ext4_3_6], fixedProfiles: [.ext4_3_7, .ext4_5_10, .ext4_6_12, .ext4_6_x],
        defaultBound: 24,
        actors: [flusher, ScenarioActor(.task(2), role: "truncate", comm: "truncate", pid: 4802, cpu: 1), irq, worker],
        scripts: [3: [.ext4Writepages(task: 3, inode, syncAll: false)],
                  2: [.ext4Setattr(task: 2, inode, newSizeBlocks: 0)]],
        device: dev, dataStartBlock: dataStart,
        initialState: { dirtyOverUnwritten($0) })

    // MARK: Seed 000

    /// Kara's question to Ts'o: what prevents mm from reclaiming the page
    /// (and loading zeros from disk) before the conversion? 3.6 ends
    /// writeback in `ext4_end_bio`; 3.11+ only after the conversion.
    public static let reclaimBeforeConversion = Scenario(
        name: "reclaim-before-conversion",
        summary: "the flusher writes a fallocated block; reclaim drops the clean folio and a reader reads it back",
        source: "seed 000 (Kara, Ts'o 2011)",
        rule: .staleReadBeforeConversion,
        bugProfiles: [.ext4_3_6], fixedProfiles: [.ext4_3_11, .ext4_5_10, .ext4_6_12, .ext4_6_x],
        defaultBound: 24,
        actors: [flusher, irq, worker, ScenarioActor(.reclaim, role: "reclaim", comm: "kswapd0", pid: 95, cpu: 1)],
        rereader: ScenarioActor(.reclaim, role: "reader", comm: "cat", pid: 4811, cpu: 1),
        scripts: [3: [.ext4Writepages(task: 3, inode, syncAll: false)]],
        device: dev, dataStartBlock: dataStart,
        initialState: { dirtyOverUnwritten($0) })
}
