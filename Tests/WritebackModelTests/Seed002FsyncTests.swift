import Testing
@testable import WritebackModel

/// Seed 002 (Monakhov / Kara, 2012): integrity fsync after a buffered write
/// into an unwritten extent.
@Suite struct Seed002FsyncTests {
    typealias F = Fixture

    /// fsync's writeback of folio 0 up to submit_bio (`task 1`).
    static func fsyncSubmits(_ d: inout ModelDriver) {
        d.step(.ext4SyncFile(task: 1, F.inode, datasync: false))
        d.step(.mpageSubmitFolio(task: 1, F.folio0))
        d.step(.ext4BioWriteFolio(task: 1, F.folio0))
        d.step(.ext4IoSubmit(task: 1, F.io0))
    }

    /// Dmitry's diagram of the code *before* his patch (3.6):
    ///
    ///     fsync()                              blkdev_completion
    ///     ->filemap_write_and_wait_range
    ///                                          ->ext4_end_bio
    ///                                           ->end_page_writeback
    ///      <-- filemap_write_and_wait_range return
    ///     ->ext4_flush_completed_IO
    ///       sees empty i_completed_io_list but pended conversion still exists
    ///                                            ->ext4_add_complete_io
    @Test func dmitryFsyncDiagramOn36() {
        var d = ModelDriver(.ext4_3_6, F.dirtyFolioOverUnwritten())
        Self.fsyncSubmits(&d)
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: false))
        #expect(d.state.folio(F.folio0)?.writeback == false, "3.6 ends writeback in ext4_end_bio")
        d.step(.filemapFdatawaitRange(task: 1))
        d.step(.ext4FlushCompletedIO(task: 1))
        d.step(.ext4SyncFileReturn(task: 1))
        d.step(.ext4AddCompleteIo(F.io0))
        #expect(d.rules() == [.fsyncBeforeConversion])
        let v = d.violations[0]
        #expect(v.inode == F.inode && v.range == BlockRange(lblk: 0, len: 1))
        #expect(v.transition == .ext4SyncFileReturn(task: 1))
        // The conversion still happens afterwards, too late for the fsync.
        d.run(.worker)
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .written)
        #expect(d.state.inodes[F.inode]!.ioEnds.isEmpty)
    }

    /// The same intent on 3.6 when the completion queued the io_end before
    /// fsync looked: ext4_flush_completed_IO converts it — no violation.
    @Test func flushFindsQueuedIoEndOn36() {
        var d = ModelDriver(.ext4_3_6, F.dirtyFolioOverUnwritten())
        Self.fsyncSubmits(&d)
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: false))
        d.step(.ext4AddCompleteIo(F.io0))
        d.step(.filemapFdatawaitRange(task: 1))
        d.step(.ext4FlushCompletedIO(task: 1))
        // 3.6's worker cannot take i_mutex while fsync holds it: it requeues.
        #expect(d.enabled(.worker).isEmpty)
        d.step(.ext4SyncFileReturn(task: 1))
        d.run(.worker)
        #expect(d.violations.isEmpty)
        #expect(d.state.inodes[F.inode]!.ioEnds.isEmpty)
    }

    /// The same intent on 3.11+ / 6.x: writeback of the unwritten io_end ends
    /// only after conversion, so the wait in fsync cannot return early, and
    /// there is no separate ext4_add_complete_io step to delay.
    @Test(arguments: [KernelProfile.ext4_3_11, .ext4_6_15, .ext4_6_x])
    func fsyncWaitsForConversionSince311(_ profile: KernelProfile) {
        var d = ModelDriver(profile, F.dirtyFolioOverUnwritten())
        Self.fsyncSubmits(&d)
        d.step(.ext4PutIoEnd(task: 1, F.io0))
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: false))
        #expect(d.state.folio(F.folio0)?.writeback == true)
        #expect(!d.isEnabled(.filemapFdatawaitRange(task: 1)))
        #expect(!d.isEnabled(.ext4AddCompleteIo(F.io0)))
        #expect(d.enabled(.task(1)).isEmpty)
        #expect(d.enabled(.worker) == [.ext4EndIoRsvWork(F.inode)])
        d.run(.worker)
        #expect(d.state.folio(F.folio0)?.writeback == false)
        d.run(.task(1))
        #expect(d.state.tasks.isEmpty)
        #expect(d.violations.isEmpty)
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .written)
    }

    /// Dmitry's three-column diagram against his V4 patch: the worker's
    /// list_replace_init hides the io_end from ext4_flush_completed_IO.
    ///
    ///     fsync()                    blkdev_completion       kwork
    ///     ->filemap_write_and_wait_range
    ///                                ->ext4_end_bio
    ///                                 ->end_page_writeback
    ///      <-- returns
    ///                                 ->ext4_add_complete_io
    ///                                                        ->ext4_do_flush_completed_IO
    ///                                                          ->list_replace_init
    ///     ->ext4_flush_completed_IO
    ///       sees empty list but pended conversion still exists
    ///                                                        ->ext4_end_io
    static func threeColumns(_ profile: KernelProfile) -> ModelDriver {
        var d = ModelDriver(profile, F.dirtyFolioOverUnwritten())
        fsyncSubmits(&d)
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: false))
        d.step(.filemapFdatawaitRange(task: 1))
        d.step(.ext4AddCompleteIo(F.io0))
        d.step(.ext4EndIoWork(F.io0))
        d.step(.ext4FlushCompletedIO(task: 1))
        return d
    }

    @Test func dmitryThreeColumnsOnV4Patch() {
        var d = Self.threeColumns(.ext4_3_7_v4)
        d.step(.ext4SyncFileReturn(task: 1))
        d.run(.worker)
        #expect(d.rules() == [.fsyncBeforeConversion])
        #expect(d.violations.first?.range == BlockRange(lblk: 0, len: 1))
    }

    /// 3.7 as merged: ext4_flush_unwritten_io also waits for i_unwritten == 0.
    @Test func threeColumnsOn37WaitForUnwritten() {
        var d = Self.threeColumns(.ext4_3_7)
        #expect(!d.isEnabled(.ext4SyncFileReturn(task: 1)))
        #expect(d.enabled(.task(1)).isEmpty, "ext4_unwritten_wait sleeps")
        d.run(.worker)
        d.run(.task(1))
        #expect(d.state.tasks.isEmpty)
        #expect(d.violations.isEmpty)
    }
}

/// Found by `wbreplay explore` (fsync-vs-conversion with the flusher): the
/// flusher cleared folio 1's dirty bit and holds its lock, not yet under
/// writeback, when fsync's own pass ends. The kernel's WB_SYNC_ALL pass
/// still finds the folio tagged TOWRITE and waits for its lock, so fsync
/// cannot reach its wait before the folio is under writeback.
@Suite struct FsyncWaitsForLockedFolioTests {
    typealias F = Fixture

    @Test(arguments: [KernelProfile.ext4_3_6, .ext4_6_x])
    func fsyncWaitsWhileFlusherHoldsTheFolio(_ profile: KernelProfile) {
        var s = F.dirtyFolioOverUnwritten()
        let folio1 = FolioRef(inode: F.inode, index: 1)
        s.setExtent(F.inode, BlockRange(lblk: 1, len: 1), .unwritten)
        s.addFolio(folio1, dirty: true)
        var d = ModelDriver(profile, s)
        d.step(.ext4SyncFile(task: 1, F.inode, datasync: false))
        d.step(.mpageSubmitFolio(task: 1, F.folio0))
        d.step(.ext4BioWriteFolio(task: 1, F.folio0))
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.step(.mpageSubmitFolio(task: 3, folio1))
        d.run(.task(1), limit: 3)
        #expect(!d.isEnabled(.filemapFdatawaitRange(task: 1)))
        d.run(.task(3))
        d.run(.blockDevice)
        d.run(.worker)
        d.run(.task(1))
        #expect(d.state.tasks[1] == nil)
        #expect(d.violations.isEmpty)
    }

    /// The flusher locked and cleaned folio 0 before fsync began: PG_dirty is
    /// clear but the DIRTY tag is not, so the folio is fsync's obligation.
    @Test(arguments: [KernelProfile.ext4_3_11, .ext4_6_x])
    func folioCleanedButTaggedIsCovered(_ profile: KernelProfile) {
        var d = ModelDriver(profile, F.dirtyFolioOverUnwritten())
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.step(.mpageSubmitFolio(task: 3, F.folio0))
        d.step(.ext4SyncFile(task: 1, F.inode, datasync: false))
        guard case .syncFile(let p)? = d.state.tasks[1]?.operation else { Issue.record("not syncing"); return }
        #expect(p.covered == [0])
        #expect(!d.isEnabled(.filemapFdatawaitRange(task: 1)))
    }
}
