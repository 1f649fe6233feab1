import Testing
@testable import WritebackModel

/// Seed 002, Jan Kara's objection to the V4 patch:
///
///     CPU1 (worker thread)                 CPU2 (truncate)
///     ext4_end_io_work()
///       ext4_do_flush_completed_IO()
///         list_replace_init(&ei->i_completed_io_list, &unwritten);
///                                          ext4_flush_completed_IO()
///                                            ext4_do_flush_completed_IO()
///                                              - sees empty i_completed_io_list => exits
///
/// "But we still have some conversions pending in 'unwritten' list."
@Suite struct Seed002TruncateTests {
    typealias F = Fixture

    /// Flusher writes folio 0 over the fallocated block and the bio completes.
    static func writtenBack(_ profile: KernelProfile) -> ModelDriver {
        var d = ModelDriver(profile, F.dirtyFolioOverUnwritten())
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.run(.task(3))
        d.run(.blockDevice)
        return d
    }

    @Test func janKaraCpu1Cpu2OnV4Patch() {
        var d = Self.writtenBack(.ext4_3_7_v4)
        #expect(d.state.ioEnd(F.io0)?.phase == .queued)
        d.step(.ext4EndIoWork(F.io0))                      // CPU1: list_replace_init
        d.step(.ext4Setattr(task: 2, F.inode, newSizeBlocks: 0))
        d.step(.truncatePagecache(task: 2))
        d.step(.ext4FlushCompletedIO(task: 2))             // CPU2: sees an empty list
        d.step(.ext4ExtRemoveSpace(task: 2))
        #expect(d.rules() == [.truncateDuringConversion])
        let v = d.violations[0]
        #expect(v.inode == F.inode && v.range == BlockRange(lblk: 0, len: 1) && v.ioEnd == F.io0)
        #expect(v.transition == .ext4ExtRemoveSpace(task: 2))
    }

    @Test func sameScheduleOn37Waits() {
        var d = Self.writtenBack(.ext4_3_7)
        d.step(.ext4EndIoWork(F.io0))
        d.step(.ext4Setattr(task: 2, F.inode, newSizeBlocks: 0))
        d.step(.truncatePagecache(task: 2))
        d.step(.ext4FlushCompletedIO(task: 2))
        #expect(!d.isEnabled(.ext4ExtRemoveSpace(task: 2)))
        #expect(d.enabled(.task(2)).isEmpty, "ext4_unwritten_wait sleeps until the worker converts")
        d.run(.worker)
        d.run(.task(2))
        #expect(d.violations.isEmpty)
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .hole)
    }

    /// 3.11+: truncate_pagecache waits for PG_writeback, which now ends only
    /// after the conversion (the 3.11 comment above ext4_end_io).
    @Test(arguments: [KernelProfile.ext4_3_11, .ext4_6_x])
    func truncateWaitsForWritebackSince311(_ profile: KernelProfile) {
        var d = Self.writtenBack(profile)
        d.step(.ext4EndIoRsvWork(F.inode))
        d.step(.ext4Setattr(task: 2, F.inode, newSizeBlocks: 0))
        #expect(!d.isEnabled(.truncatePagecache(task: 2)))
        #expect(!d.isEnabled(.ext4FlushCompletedIO(task: 2)))
        d.run(.worker)
        d.run(.task(2))
        #expect(d.violations.isEmpty)
    }

    /// 3.6 has the same window as Dmitry's fsync diagram: writeback ended in
    /// ext4_end_bio, the io_end not yet queued, so truncate's flush misses it.
    @Test func truncateBetweenEndBioAndQueueOn36() {
        var d = ModelDriver(.ext4_3_6, F.dirtyFolioOverUnwritten())
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.run(.task(3))
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: false))
        d.step(.ext4PunchHole(task: 2, F.inode, BlockRange(lblk: 0, len: 1)))
        d.run(.task(2))
        #expect(d.rules() == [.truncateDuringConversion])
    }
}
