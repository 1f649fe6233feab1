import Testing
@testable import WritebackModel

/// ≥3.11: when the bio completes before the submitter drops its io_end
/// reference, ext4_put_io_end converts inline in the submitter — no
/// workqueue at all (C′ in the research notes). That path is legal.
@Suite struct InlineConversionTests {
    typealias F = Fixture

    @Test(arguments: [KernelProfile.ext4_3_11, .ext4_6_x])
    func conversionInSubmitterWithoutWorkqueue(_ profile: KernelProfile) {
        var d = HiddenStepTests.completedWhileHeld(profile)
        #expect(d.state.ioEnd(F.io0)?.refcount == 1)
        #expect(d.state.folio(F.folio0)?.writeback == true, "bio chained, not finished")
        d.step(.ext4PutIoEnd(task: 1, F.io0))
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .written)
        #expect(d.state.folio(F.folio0)?.writeback == false)
        #expect(!d.state.inodes[F.inode]!.rsvWorkQueued)
        #expect(d.enabled(.worker).isEmpty)
        d.run(.task(1))
        #expect(d.state.tasks.isEmpty)
        #expect(d.violations.isEmpty)
    }

    /// ≤3.10 has no submitter reference: the step does not exist.
    @Test func noSubmitterReferenceBefore311() {
        let d = HiddenStepTests.completedWhileHeld(.ext4_3_7, complete: false,
                                                   start: .ext4Writepages(task: 1, F.inode, syncAll: false))
        #expect(!d.isEnabled(.ext4PutIoEnd(task: 1, F.io0)))
        #expect(d.enabled(.task(1)) == [.ext4WritepagesResult(task: 1)])
    }
}

/// Allocation during writeback: unwritten under dioread_nolock (the 6.x
/// default), written otherwise (the 3.x default: ordered data instead).
@Suite struct AllocationTests {
    typealias F = Fixture

    static func writeIntoHole(_ profile: KernelProfile) -> ModelDriver {
        var s = ModelState()
        s.mount(F.dev, SuperblockState(defaultsOf: profile))
        s.addInode(F.inode)
        var d = ModelDriver(profile, s)
        d.step(.ext4DaWriteBegin(task: 1, F.folio0))
        d.step(.ext4DaWriteEnd(task: 1))
        d.step(.ext4Writepages(task: 2, F.inode, syncAll: false))
        d.step(.mpageSubmitFolio(task: 2, F.folio0))
        d.step(.ext4BioWriteFolio(task: 2, F.folio0))
        return d
    }

    @Test func dioreadNolockDefaultOn6x() {
        let d = Self.writeIntoHole(.ext4_6_x)
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .unwritten)
        #expect(d.state.ioEnd(F.io0)?.flags.contains(.unwritten) == true)
    }

    @Test func writtenAtAllocationOn36() {
        let d = Self.writeIntoHole(.ext4_3_6)
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .written)
        #expect(d.state.ioEnd(F.io0)?.flags.contains(.unwritten) == false)
    }
}
