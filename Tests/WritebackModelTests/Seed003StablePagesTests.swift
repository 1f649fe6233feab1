import Testing
@testable import WritebackModel

/// Seed 003 (Wong / Mason / Kara, 2011): stable pages. writepage: lock,
/// clear_page_dirty_for_io, set_page_writeback, unlock, submit;
/// page_mkwrite: lock, wait on writeback.
@Suite struct Seed003StablePagesTests {
    typealias F = Fixture

    /// Folio 0 mapped writable and dirty; writeback gets to the point where
    /// the folio is under writeback and unlocked, with the bio in flight.
    static func underWriteback(_ profile: KernelProfile, stable: Bool) -> ModelDriver {
        var d = ModelDriver(profile, F.cleanWrittenFolio(SuperblockState(stableWrites: stable), pte: .writable, dirty: true))
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.step(.mpageSubmitFolio(task: 3, F.folio0))
        // Folio locked, dirty cleared, PTE write-protected: the fault waits for the lock.
        #expect(!d.isEnabled(.ext4PageMkwrite(task: 1, F.folio0)))
        #expect(!d.isEnabled(.userStore(task: 1, F.folio0)))
        d.step(.ext4BioWriteFolio(task: 3, F.folio0))
        d.step(.ext4IoSubmit(task: 3, F.io0))
        d.step(.blkMqStartRequest(F.bio0))
        return d
    }

    /// 2.6.39: ext4_page_mkwrite with mapped buffers neither waits for
    /// writeback nor locks for long: the store lands in the page the device
    /// is reading (a DIF checksum error on Darrick's hardware).
    @Test func mkwriteDuringWritebackOn2639() {
        var d = Self.underWriteback(.ext4_2_6_39, stable: true)
        d.step(.ext4PageMkwrite(task: 1, F.folio0))
        #expect(d.rules() == [.unstablePageWrite])
        #expect(d.violations.first?.folio == F.folio0)
    }

    /// 3.6 waits unconditionally; 3.11+ waits because the device asks for
    /// stable writes (folio_wait_stable): the fault is not enabled until
    /// the writeback ends.
    @Test(arguments: [KernelProfile.ext4_3_6, .ext4_3_11, .ext4_6_x])
    func mkwriteWaitsOnStableDevice(_ profile: KernelProfile) {
        var d = Self.underWriteback(profile, stable: true)
        #expect(!d.isEnabled(.ext4PageMkwrite(task: 1, F.folio0)))
        #expect(!d.isEnabled(.ext4DaWriteBegin(task: 2, F.folio0)))
        d.run(.blockDevice)
        d.run(.task(3))
        d.run(.worker)
        d.step(.ext4PageMkwrite(task: 1, F.folio0))
        #expect(d.violations.isEmpty)
    }

    /// 6.x on an ordinary device does not wait, and that is not a bug: the
    /// rule applies only where the device requires stable writes.
    @Test func noWaitAndNoRuleOnOrdinaryDevice() {
        var d = Self.underWriteback(.ext4_6_x, stable: false)
        d.step(.ext4PageMkwrite(task: 1, F.folio0))
        d.step(.userStore(task: 1, F.folio0))
        #expect(d.violations.isEmpty)
    }
}
