import Testing
@testable import WritebackModel

/// Up to 6.13 `ext4_punch_hole` writes the range's dirty folios back and
/// waits for them (`filemap_write_and_wait_range`) before it drops the page
/// cache; 6.14 on does so only for journalled data.
@Suite struct PunchHoleWritebackTests {
    typealias F = Fixture

    @Test(arguments: [KernelProfile.ext4_3_11, .ext4_5_10, .ext4_6_12])
    func punchWritesItsDirtyFoliosBackFirst(_ profile: KernelProfile) {
        var d = ModelDriver(profile, F.dirtyFolioOverUnwritten())
        d.step(.ext4PunchHole(task: 2, F.inode, BlockRange(lblk: 0, len: 1)))
        #expect(d.isEnabled(.ext4Writepages(task: 2, F.inode, syncAll: true)))
        d.step(.ext4Writepages(task: 2, F.inode, syncAll: true))
        #expect(!d.isEnabled(.truncatePagecache(task: 2)), "the folio is not written yet")
        d.run(.task(2))
        d.run(.blockDevice)
        d.run(.worker)
        d.run(.task(2))
        #expect(d.violations.isEmpty)
        #expect(d.state.tasks[2] == nil)
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .hole)
        #expect(d.state.inodes[F.inode]!.folios.isEmpty)
    }

    @Test(arguments: [KernelProfile.ext4_6_15, .ext4_6_x])
    func laterKernelsDropTheDirtyFolio(_ profile: KernelProfile) {
        var d = ModelDriver(profile, F.dirtyFolioOverUnwritten())
        d.step(.ext4PunchHole(task: 2, F.inode, BlockRange(lblk: 0, len: 1)))
        #expect(!d.isEnabled(.ext4Writepages(task: 2, F.inode, syncAll: true)), "the task is busy punching")
        d.step(.truncatePagecache(task: 2))
        #expect(d.state.inodes[F.inode]!.folios.isEmpty)
    }

    /// Truncate never writes back: its ext4_writepages would be another operation.
    @Test func truncateDoesNotWriteBack() {
        var d = ModelDriver(.ext4_5_10, F.dirtyFolioOverUnwritten())
        d.step(.ext4Setattr(task: 2, F.inode, newSizeBlocks: 0))
        #expect(!d.isEnabled(.ext4Writepages(task: 2, F.inode, syncAll: true)))
    }
}

/// A hole that starts or ends inside a block: `ext4_punch_hole` frees only
/// the blocks wholly inside it (`first_block` rounded up, `stop_block`
/// rounded down) and zeroes the partial ones (`ext4_zero_partial_blocks`);
/// `truncate_pagecache_range` drops only the folios wholly inside it
/// (`truncate_inode_partial_folio` keeps the others, zeroed in part).
@Suite struct PartialPunchTests {
    typealias F = Fixture

    /// Folios 0–2 over written blocks 0–2, all dirty (fsx's mmap writes).
    static func threeDirtyFolios() -> ModelState {
        var s = ModelState()
        s.mount(F.dev, SuperblockState())
        s.addInode(F.inode, sizeBlocks: 3)
        s.setExtent(F.inode, BlockRange(lblk: 0, len: 3), .written)
        for i in 0..<3 { s.addFolio(FolioRef(inode: F.inode, index: UInt64(i)), dirty: true) }
        return s
    }

    @Test func thePartialFoliosStayAndTheirBlocksStayAllocated() {
        var d = ModelDriver(.ext4_6_x, Self.threeDirtyFolios())
        // Bytes 2651 of block 0 to 286 of block 2: touches 0–2, frees block 1.
        d.step(.ext4PunchHole(task: 2, F.inode, BlockRange(lblk: 0, len: 3), freed: BlockRange(lblk: 1, len: 1)))
        d.step(.truncatePagecache(task: 2))
        d.step(.ext4ExtRemoveSpace(task: 2))
        let i = d.state.inodes[F.inode]!
        #expect(i.folios.keys.sorted() == [0, 2])
        #expect(d.state.folio(F.folio0)?.dirty == true)
        #expect(i.extents.state(of: 0) == .written)
        #expect(i.extents.state(of: 1) == .hole)
        #expect(i.extents.state(of: 2) == .written)
        #expect(d.violations.isEmpty)
    }

    /// A hole inside one block frees nothing and drops no folio.
    @Test func aHoleInsideOneBlockFreesNothing() {
        var d = ModelDriver(.ext4_6_x, Self.threeDirtyFolios())
        d.step(.ext4PunchHole(task: 2, F.inode, BlockRange(lblk: 1, len: 1), freed: BlockRange(lblk: 1, len: 0)))
        d.step(.truncatePagecache(task: 2))
        d.step(.ext4ExtRemoveSpace(task: 2))
        #expect(d.state.inodes[F.inode]!.folios.keys.sorted() == [0, 1, 2])
        #expect(d.state.inodes[F.inode]!.extents.state(of: 1) == .written)
    }

    /// Without `freed` the hole is whole blocks: every folio it touches goes.
    @Test func aWholeBlockHoleDropsEveryFolioItTouches() {
        var d = ModelDriver(.ext4_6_x, Self.threeDirtyFolios())
        d.step(.ext4PunchHole(task: 2, F.inode, BlockRange(lblk: 0, len: 3)))
        d.step(.truncatePagecache(task: 2))
        d.step(.ext4ExtRemoveSpace(task: 2))
        #expect(d.state.inodes[F.inode]!.folios.isEmpty)
        #expect(d.state.inodes[F.inode]!.extents.state(of: 2) == .hole)
    }
}
