import TraceIO
import WritebackModel

// Seeds 001 and 003 (mapped pages) and CVE-2025-38580 (inode life).

extension BuiltinScenarios {
    /// Okajima's four cases, one mmap writer each, against FIFREEZE:
    /// [1] page not in the cache, block not allocated (read fault, then write
    /// fault); [2] page cached, block not allocated; [3] page cached, block
    /// allocated, PTE write-protected; [4] page mapped writable and dirty
    /// (store, then munmap). 2.6.39's `ext4_page_mkwrite` lets [3] through
    /// on a frozen fs; 3.6+ blocks every write fault (`sb_start_pagefault`).
    public static let freezeVsMmap = Scenario(
        name: "freeze-vs-mmap",
        summary: "four mmap writers (seed 001 cases [1]-[4]) against FIFREEZE and its sync",
        source: "seed 001 (Okajima, Kara 2011)",
        rule: .writeWhileFrozen,
        bugProfiles: [.ext4_2_6_39], fixedProfiles: [.ext4_3_6, .ext4_5_10, .ext4_6_12, .ext4_6_x],
        defaultBound: 40,
        actors: [ScenarioActor(.task(9), role: "fsfreeze", comm: "fsfreeze", pid: 17953, cpu: 0),
                 ScenarioActor(.task(1), role: "case [1]", comm: "mmap-writer", pid: 17901, cpu: 1),
                 ScenarioActor(.task(2), role: "case [2]", comm: "mmap-writer", pid: 17902, cpu: 1),
                 ScenarioActor(.task(3), role: "case [3]", comm: "mmap-writer", pid: 17903, cpu: 1),
                 ScenarioActor(.task(4), role: "case [4]", comm: "mmap-writer", pid: 17904, cpu: 1),
                 irq, worker],
        scripts: [9: [.freezeSuper(task: 9, dev)],
                  1: [.filemapFault(task: 1, folio(0)), .ext4PageMkwrite(task: 1, folio(0))],
                  2: [.ext4PageMkwrite(task: 2, folio(1))],
                  3: [.ext4PageMkwrite(task: 3, folio(2))],
                  4: [.userStore(task: 4, folio(3)), .zapPteRange(task: 4, folio(3))]],
        device: dev, dataStartBlock: dataStart,
        initialState: { profile in
            var s = ModelState()
            s.mount(dev, SuperblockState(defaultsOf: profile))
            s.addInode(inode, sizeBlocks: 4)
            s.setExtent(inode, BlockRange(lblk: 2, len: 2), .written)
            s.addFolio(folio(1), pte: .readOnly)
            s.addFolio(folio(2), pte: .readOnly)
            s.addFolio(folio(3), dirty: true, pte: .writable)
            return s
        })

    /// Chris Mason's protocol: writepage locks, clears dirty (write-protects),
    /// sets writeback, unlocks, submits; page_mkwrite locks and waits on
    /// writeback. 2.6.39's `ext4_page_mkwrite` does not wait for mapped
    /// buffers, so a store lands in a page the device is reading.
    public static let mkwriteVsWriteback = Scenario(
        name: "mkwrite-vs-writeback",
        summary: "the flusher writes a mapped dirty page of a stable-writes device while its writer faults again",
        source: "seed 003 (Wong, Mason, Kara 2011)",
        rule: .unstablePageWrite,
        bugProfiles: [.ext4_2_6_39], fixedProfiles: [.ext4_3_6, .ext4_5_10, .ext4_6_12, .ext4_6_x],
        defaultBound: 20,
        actors: [flusher, ScenarioActor(.task(1), role: "mmap writer", comm: "dd", pid: 5120, cpu: 1), irq, worker],
        scripts: [3: [.ext4Writepages(task: 3, inode, syncAll: false)],
                  1: [.ext4PageMkwrite(task: 1, folio(0))]],
        device: dev, dataStartBlock: dataStart,
        initialState: { profile in
            var s = ModelState()
            s.mount(dev, SuperblockState(defaultsOf: profile, stableWrites: true))
            s.addInode(inode, sizeBlocks: 1)
            s.setExtent(inode, BlockRange(lblk: 0, len: 1), .written)
            s.addFolio(folio(0), dirty: true, pte: .writable)
            return s
        })

    /// CVE-2025-38580: an overwrite whose bio fails. 6.15's
    /// `ext4_put_io_end_defer` queues the FAILED io_end that `ext4_end_bio`
    /// did not defer; the folio's writeback (the inode's last) has ended, so
    /// evict frees the inode before `ext4_end_io_rsv_work` runs.
    public static let evictVsRsvWork = Scenario(
        name: "evict-vs-rsv-work",
        summary: "the flusher overwrites a block, the write fails, the unlinked inode is evicted",
        source: "CVE-2025-38580 (6.15, fixed by c678bdc99875)",
        rule: .evictWithPendingIO,
        bugProfiles: [.ext4_6_15], fixedProfiles: [.ext4_5_10, .ext4_6_12, .ext4_6_x],
        defaultBound: 24,
        actors: [flusher, ScenarioActor(.task(5), role: "evict", comm: "rm", pid: 17529, cpu: 1), irq, worker],
        scripts: [3: [.ext4Writepages(task: 3, inode, syncAll: false)],
                  5: [.ext4EvictInode(task: 5, inode)]],
        device: dev, dataStartBlock: dataStart,
        initialState: { dirtyOverFailingDevice($0, .written) })
}
