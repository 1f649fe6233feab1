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

    /// The bio fails before the submitter drops its reference (a dm `error`
    /// target fails it inside `submit_bio`): the submitter's
    /// `ext4_put_io_end` is the last and converts inline.
    static func failedWriteBeforeSubmitterPut(_ profile: KernelProfile) -> ModelDriver {
        var d = ModelDriver(profile, F.dirtyFolioOverUnwritten(SuperblockState(ioErrorsPossible: true)))
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        while let t = d.enabled(.task(3)).first {
            if case .ext4PutIoEnd = t { break }
            d.step(t)
        }
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: true))
        #expect(d.enabled(.task(3)) == [.ext4PutIoEnd(task: 3, F.io0)])
        d.run(.task(3))
        d.run(.worker)
        return d
    }

    @Test(arguments: [KernelProfile.ext4_3_6, .ext4_3_7, .ext4_3_11, .ext4_5_10])
    func convertedDespiteErrorBefore615(_ profile: KernelProfile) {
        let d = Self.failedWriteIntoUnwritten(profile)
        #expect(d.rules() == [.conversionAfterIOError])
        #expect(d.violations.first?.range == BlockRange(lblk: 0, len: 1))
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .written)
    }

    /// 6.12.117 (e856f93e0fb2 without 2f94b537c48d) and 6.15+: the worker's
    /// `ext4_end_io_end` leaves a FAILED io_end unwritten.
    @Test(arguments: [KernelProfile.ext4_6_12, .ext4_6_15, .ext4_6_x])
    func failedIoEndNotConvertedByTheWorker(_ profile: KernelProfile) {
        let d = Self.failedWriteIntoUnwritten(profile)
        #expect(d.violations.isEmpty)
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .unwritten)
        #expect(d.state.inodes[F.inode]!.ioEnds.isEmpty)
        #expect(d.state.folio(F.folio0)?.writeback == false)
    }

    /// Up to 6.14, and on 6.12.117, the submitter's inline `ext4_put_io_end`
    /// converts a FAILED io_end; 6.15+ skip it there too.
    @Test(arguments: [KernelProfile.ext4_3_11, .ext4_5_10, .ext4_6_12, .ext4_6_15, .ext4_6_x])
    func inlinePutOfAFailedIoEnd(_ profile: KernelProfile) {
        let d = Self.failedWriteBeforeSubmitterPut(profile)
        let converts = profile.generation < .v6_15
        #expect(d.rules() == (converts ? [.conversionAfterIOError] : []), "\(profile)")
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == (converts ? .written : .unwritten), "\(profile)")
        #expect(d.state.inodes[F.inode]!.ioEnds.isEmpty)
        #expect(d.state.inodes[F.inode]!.rsvWorkQueued == false, "converted or released inline, not queued")
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
