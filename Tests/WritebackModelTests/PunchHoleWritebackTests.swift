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
