import Testing
@testable import WritebackModel

/// Seed 000 (Kara / Ts'o, 2011): "what prevents mm from reclaiming the page
/// (and possibly loading zeros from disk) before we finish the conversion?"
/// and "what prevents mm from reaping the inode before the workqueue gets
/// to processing it?"
@Suite struct Seed000ReclaimTests {
    typealias F = Fixture

    /// Writeback of folio 0 into the fallocated block, bio completed.
    static func completed(_ profile: KernelProfile) -> ModelDriver {
        var d = ModelDriver(profile, F.dirtyFolioOverUnwritten())
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.run(.task(3))
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: false))
        return d
    }

    /// 3.6: end_page_writeback and put_page in ext4_end_bio (put_io_page),
    /// conversion later in the worker. Reclaim takes the clean folio, a
    /// reader misses the page cache and reads the unwritten extent: zeros.
    @Test func reclaimBeforeConversionOn36() {
        var d = Self.completed(.ext4_3_6)
        d.step(.ext4AddCompleteIo(F.io0))
        #expect(d.enabled(.reclaim).contains(.shrinkFolioList(F.folio0)))
        d.step(.shrinkFolioList(F.folio0))
        d.step(.ext4ReadFolio(.task(4), F.folio0))
        #expect(d.rules() == [.staleReadBeforeConversion])
        let v = d.violations[0]
        #expect(v.folio == F.folio0 && v.range == BlockRange(lblk: 0, len: 1) && v.ioEnd == F.io0)
    }

    /// After the conversion the same reclaim and re-read are harmless.
    @Test func reclaimAfterConversionIsFineOn36() {
        var d = Self.completed(.ext4_3_6)
        d.step(.ext4AddCompleteIo(F.io0))
        d.run(.worker)
        d.step(.shrinkFolioList(F.folio0))
        d.step(.ext4ReadFolio(.task(4), F.folio0))
        #expect(d.violations.isEmpty)
    }

    /// 3.11+: the folio stays under writeback until the conversion, so
    /// reclaim cannot take it: the transition is not even enabled.
    @Test(arguments: [KernelProfile.ext4_3_11, .ext4_6_x])
    func reclaimWaitsForConversionSince311(_ profile: KernelProfile) {
        var d = Self.completed(profile)
        #expect(d.state.folio(F.folio0)?.writeback == true)
        #expect(!d.enabled(.reclaim).contains(.shrinkFolioList(F.folio0)))
        d.run(.worker)
        #expect(d.enabled(.reclaim).contains(.shrinkFolioList(F.folio0)))
        d.step(.shrinkFolioList(F.folio0))
        d.step(.ext4ReadFolio(.task(4), F.folio0))
        #expect(d.violations.isEmpty)
    }

    /// The inode half of seed 000 on 3.6: f7ad6d2e9201a's i_ioend_count
    /// makes evict wait for pending io callbacks (ext4_ioend_wait).
    @Test func evictWaitsForIoEndsOn36() {
        var d = Self.completed(.ext4_3_6)
        d.step(.ext4AddCompleteIo(F.io0))
        d.step(.ext4EvictInode(task: 5, F.inode))
        #expect(!d.isEnabled(.ext4IoendWait(task: 5)))
        d.run(.worker)
        d.run(.task(5))
        #expect(d.state.inodes[F.inode]?.lifecycle == .freed)
        #expect(d.violations.isEmpty)
    }
}
