import Testing
@testable import WritebackModel

/// Seed 001 (Okajima / Kara, 2011): fsfreeze vs mmap writes.
@Suite struct Seed001FreezeTests {
    typealias F = Fixture

    /// FIFREEZE by task 9, run to completion (the ioctl returns), with the
    /// device and the worker finishing what the freeze's sync submits.
    static func freeze(_ d: inout ModelDriver) {
        d.step(.freezeSuper(task: 9, F.dev))
        for _ in 0..<5 where d.state.tasks[9] != nil {
            d.run(.task(9))
            d.run(.blockDevice)
            d.run(.worker)
        }
        #expect(d.state.superblocks[F.dev]?.freeze == .frozen)
    }

    /// Case [3]: the folio is mapped, its buffers are mapped (blocks
    /// allocated), the PTE was write-protected by the last writeback. The
    /// user's store faults; 2.6.39's ext4_page_mkwrite returns at once for
    /// mapped buffers, the folio is dirtied, and the flusher writes it.
    @Test func case3MkwriteOnFrozenFsOn2639() {
        var d = ModelDriver(.ext4_2_6_39, F.cleanWrittenFolio(pte: .readOnly))
        Self.freeze(&d)
        #expect(!d.isEnabled(.userStore(task: 1, F.folio0)), "the PTE is read-only: the store faults")
        d.step(.ext4PageMkwrite(task: 1, F.folio0))
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.run(.task(3))
        d.run(.blockDevice)
        let rules = d.violations.map(\.rule)
        #expect(rules == [.writeWhileFrozen, .writeWhileFrozen, .writeWhileFrozen])
        #expect(d.violations[0].transition == .ext4PageMkwrite(task: 1, F.folio0))
        #expect(d.violations[1].transition == .ext4IoSubmit(task: 3, F.io0))
        #expect(d.violations[2].transition == .blkMqStartRequest(F.bio0))
        #expect(d.violations.allSatisfy { $0.inode == F.inode && $0.range == BlockRange(lblk: 0, len: 1) })
    }

    /// The same fault since 3.6: sb_start_pagefault blocks until thaw.
    @Test(arguments: [KernelProfile.ext4_3_6, .ext4_6_x])
    func case3BlocksSince36(_ profile: KernelProfile) {
        var d = ModelDriver(profile, F.cleanWrittenFolio(pte: .readOnly))
        Self.freeze(&d)
        #expect(!d.isEnabled(.ext4PageMkwrite(task: 1, F.folio0)))
        #expect(!d.isEnabled(.userStore(task: 1, F.folio0)))
        d.step(.thawSuper(task: 9, F.dev))
        d.step(.ext4Unfreeze(task: 9))
        d.step(.ext4PageMkwrite(task: 1, F.folio0))
        #expect(d.violations.isEmpty)
    }

    /// Cases [1]/[2] on 2.6.39: a fault that must allocate goes through
    /// write_begin's journal start and blocks on the frozen fs.
    @Test func unmappedFaultBlocksOn2639() {
        var s = F.cleanWrittenFolio(pte: .readOnly)
        s.setExtent(F.inode, BlockRange(lblk: 0, len: 1), .hole)
        var d = ModelDriver(.ext4_2_6_39, s)
        Self.freeze(&d)
        #expect(!d.isEnabled(.ext4PageMkwrite(task: 1, F.folio0)))
    }

    /// Case [4]: the page was mapped writable and dirty before the freeze.
    /// Jan Kara: writeback write-protects the page, so the freeze's sync
    /// turns case [4] into case [3]. After FIFREEZE returns, munmap finds a
    /// clean PTE (nothing is dirtied) and a store must fault.
    @Test(arguments: [KernelProfile.ext4_2_6_39, .ext4_3_6, .ext4_6_x])
    func case4WriteProtectedByFreezeSync(_ profile: KernelProfile) {
        var d = ModelDriver(profile, F.cleanWrittenFolio(pte: .writable, dirty: true))
        d.step(.userStore(task: 1, F.folio0))
        Self.freeze(&d)
        #expect(d.state.folio(F.folio0)?.pte == .readOnly)
        #expect(!d.isEnabled(.userStore(task: 1, F.folio0)))
        d.step(.zapPteRange(task: 1, F.folio0))
        #expect(d.state.folio(F.folio0)?.dirty == false)
        #expect(d.violations.isEmpty)
        // Writing again needs the fault of case [3]: only 2.6.39 lets it through.
        #expect(d.isEnabled(.ext4PageMkwrite(task: 1, F.folio0)) == (profile == .ext4_2_6_39))
    }

    /// Writes during the FIFREEZE ioctl are legal: a write(2) already
    /// inside when the freeze starts finishes, and sync_filesystem writes
    /// it out before the freeze completes. A new write blocks.
    @Test(arguments: [KernelProfile.ext4_3_6, .ext4_6_x])
    func writesDuringFreezeIoctlAreLegal(_ profile: KernelProfile) {
        var d = ModelDriver(profile, F.cleanWrittenFolio())
        d.step(.ext4DaWriteBegin(task: 1, F.folio0))
        d.step(.freezeSuper(task: 9, F.dev))
        #expect(!d.isEnabled(.ext4DaWriteBegin(task: 2, FolioRef(inode: F.inode, index: 1))))
        #expect(!d.isEnabled(.ext4Freeze(task: 9)), "sb_wait_write waits for the writer")
        d.step(.ext4DaWriteEnd(task: 1))
        d.run(.task(9))
        #expect(d.state.superblocks[F.dev]?.freeze == .freezing, "the sync's bio is in flight")
        d.run(.blockDevice)
        d.run(.worker)
        d.run(.task(9))
        #expect(d.state.superblocks[F.dev]?.freeze == .frozen)
        #expect(d.state.folio(F.folio0)?.dirty == false)
        #expect(d.violations.isEmpty)
    }
}
