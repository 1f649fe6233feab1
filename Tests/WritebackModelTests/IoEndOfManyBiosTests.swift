import Testing
import TraceIO
@testable import WritebackModel

/// ≥3.11 one pass of the mapping loop builds one io_end over every bio of
/// its extent (`ext4_do_writepages`: "For each extent of pages we use new
/// io_end"; `io_submit_add_bh` submits a bio when the next block does not
/// merge and opens the next one on the same io_end). Each bio ends its own
/// folios' writeback; the conversion waits for the last bio.
@Suite struct IoEndOfManyBiosTests {
    typealias F = Fixture
    static let folio1 = FolioRef(inode: F.inode, index: 1)
    static let bio1 = BioRef(ioEnd: F.io0, index: 1)

    /// Folio 0 over a written block, folio 1 over a fallocated one, both
    /// dirty; the flusher submits them as two bios (the blocks do not merge).
    static func twoBios(_ profile: KernelProfile, second: ExtentState = .unwritten) -> ModelDriver {
        var s = ModelState()
        s.mount(F.dev, SuperblockState(defaultsOf: profile))
        s.addInode(F.inode, sizeBlocks: 2)
        s.setExtent(F.inode, BlockRange(lblk: 0, len: 1), .written)
        s.setExtent(F.inode, BlockRange(lblk: 1, len: 1), second)
        s.addFolio(F.folio0, dirty: true)
        s.addFolio(folio1, dirty: true)
        var d = ModelDriver(profile, s)
        d.step(.ext4Writepages(task: 1, F.inode, syncAll: false))
        for folio in [F.folio0, folio1] {
            d.step(.mpageSubmitFolio(task: 1, folio))
            d.step(.ext4BioWriteFolio(task: 1, folio))
            d.step(.ext4IoSubmit(task: 1, F.io0))
        }
        return d
    }

    @Test(arguments: [KernelProfile.ext4_3_11, .ext4_5_10, .ext4_6_x])
    func theSecondBioJoinsThePassIoEnd(_ profile: KernelProfile) throws {
        let d = Self.twoBios(profile)
        let io = try #require(d.state.ioEnd(F.io0))
        #expect(d.state.inodes[F.inode]!.ioEnds.count == 1)
        #expect(io.bios.map(\.folios) == [[0], [1]])
        #expect(io.bios.map(\.range) == [BlockRange(lblk: 0, len: 1), BlockRange(lblk: 1, len: 1)])
        #expect(io.refcount == 3, "the pass's reference and one per bio")
        #expect(d.state.tasks[1]?.writeback?.ownerReference == F.io0)
    }

    /// The unwritten half completes first: nothing is queued while the
    /// other bio is in flight; the pass's put after the last completion
    /// converts inline (C′).
    @Test func theConversionWaitsForTheLastBio() {
        var d = Self.twoBios(.ext4_6_x)
        d.step(.blkMqStartRequest(Self.bio1))
        d.step(.ext4EndBio(Self.bio1, error: false))
        #expect(d.state.ioEnd(F.io0)?.phase == .submitted)
        #expect(!d.state.inodes[F.inode]!.rsvWorkQueued)
        #expect(d.state.inodes[F.inode]!.extents.state(of: 1) == .unwritten)
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: false))
        #expect(d.state.ioEnd(F.io0)?.phase == .bioDone)
        #expect(d.state.folio(Self.folio1)?.writeback == true, "deferred: ended by the conversion")
        d.step(.ext4PutIoEnd(task: 1, F.io0))
        #expect(d.state.inodes[F.inode]!.extents.state(of: 1) == .written)
        #expect(d.state.ioEnd(F.io0) == nil)
        #expect(d.state.folio(F.folio0)?.writeback == false)
        #expect(d.state.folio(Self.folio1)?.writeback == false)
        #expect(d.violations.isEmpty)
    }

    /// Nothing to convert: each bio's completion ends its own folios only.
    @Test func eachBioEndsItsOwnFolios() {
        var d = Self.twoBios(.ext4_6_x, second: .written)
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: false))
        #expect(d.state.folio(F.folio0)?.writeback == false)
        #expect(d.state.folio(Self.folio1)?.writeback == true)
        d.step(.blkMqStartRequest(Self.bio1))
        d.step(.ext4EndBio(Self.bio1, error: false))
        #expect(d.state.folio(Self.folio1)?.writeback == false)
        d.step(.ext4PutIoEnd(task: 1, F.io0))
        #expect(d.state.ioEnd(F.io0) == nil)
    }

    /// ≤3.10 `ext4_io_submit` hands the io_end to its bio (3.6/3.7
    /// page-io.c: `io->io_end = NULL`): the next folio opens another.
    @Test(arguments: [KernelProfile.ext4_3_6, .ext4_3_7])
    func anIoEndPerBioBefore311(_ profile: KernelProfile) {
        var s = ModelState()
        s.mount(F.dev, SuperblockState(defaultsOf: profile))
        s.addInode(F.inode, sizeBlocks: 2)
        s.setExtent(F.inode, BlockRange(lblk: 0, len: 2), .written)
        s.addFolio(F.folio0, dirty: true)
        s.addFolio(Self.folio1, dirty: true)
        var d = ModelDriver(profile, s)
        d.step(.ext4Writepages(task: 1, F.inode, syncAll: false))
        d.step(.mpageSubmitFolio(task: 1, F.folio0))
        d.step(.ext4BioWriteFolio(task: 1, F.folio0))
        d.step(.ext4IoSubmit(task: 1, F.io0))
        d.step(.mpageSubmitFolio(task: 1, Self.folio1))
        #expect(d.state.tasks[1]?.writeback?.ioEnd == IoEndRef(inode: F.inode, serial: 1))
        #expect(d.state.ioEnd(F.io0)?.bios.count == 1)
    }
}
