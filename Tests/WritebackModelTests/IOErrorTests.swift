import Testing
@testable import WritebackModel

/// conversion-after-io-error (e856f93e0fb2): a failed write into an
/// unwritten extent must leave it unwritten, or the blocks' stale contents
/// become readable.
@Suite struct IOErrorTests {
    typealias F = Fixture

    static func failedWriteIntoUnwritten(_ profile: KernelProfile) -> ModelDriver {
        var d = ModelDriver(profile, F.dirtyFolioOverUnwritten(SuperblockState(ioErrorsPossible: true)))
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.run(.task(3))
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: true))
        d.run(.blockDevice)
        d.run(.worker)
        return d
    }

    @Test(arguments: [KernelProfile.ext4_3_6, .ext4_3_7, .ext4_3_11])
    func convertedDespiteErrorBefore615(_ profile: KernelProfile) {
        let d = Self.failedWriteIntoUnwritten(profile)
        #expect(d.rules() == [.conversionAfterIOError])
        #expect(d.violations.first?.range == BlockRange(lblk: 0, len: 1))
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .written)
    }

    @Test(arguments: [KernelProfile.ext4_6_15, .ext4_6_x])
    func failedIoEndNotConvertedSince615(_ profile: KernelProfile) {
        let d = Self.failedWriteIntoUnwritten(profile)
        #expect(d.violations.isEmpty)
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .unwritten)
        #expect(d.state.inodes[F.inode]!.ioEnds.isEmpty)
        #expect(d.state.folio(F.folio0)?.writeback == false)
    }

    /// A failed write is no fsync obligation and reads back as zeros legitimately.
    @Test func failedWriteIsNotAStaleRead() {
        var d = ModelDriver(.ext4_3_6, F.dirtyFolioOverUnwritten(SuperblockState(ioErrorsPossible: true)))
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.run(.task(3))
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: true))
        d.step(.shrinkFolioList(F.folio0))
        d.step(.ext4ReadFolio(.task(4), F.folio0))
        #expect(d.violations.isEmpty)
    }
}
