import Testing
import TraceIO
@testable import WritebackModel

/// A refusal names what blocks, as a value: the lock and its holder, the
/// wait, the object missing. Its words are the kernel function's.
@Suite struct BlockerTests {
    typealias F = Fixture

    static func refusal(_ model: WritebackModel, _ t: Transition, in s: ModelState) -> NotEnabled? {
        do {
            _ = try model.apply(t, to: s)
            return nil
        } catch {
            return error
        }
    }

    /// Writeback has folio 0 locked between `folio_clear_dirty_for_io` and
    /// `__folio_start_writeback`: a writer and truncate both wait for the
    /// lock, and say so in their own words.
    @Test func aLockedFolioNamesItsHolder() throws {
        var d = ModelDriver(.ext4_6_x, F.cleanWrittenFolio(dirty: true))
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.step(.mpageSubmitFolio(task: 3, F.folio0))
        let write = try #require(Self.refusal(d.model, .ext4DaWriteBegin(task: 1, F.folio0), in: d.state))
        #expect(write.blocker == .folioLocked(F.folio0, holder: .task(3)))
        #expect(write.reason == "folio is locked")
        d.step(.ext4Setattr(task: 2, F.inode, newSizeBlocks: 0))
        let truncate = try #require(Self.refusal(d.model, .truncatePagecache(task: 2), in: d.state))
        #expect(truncate.blocker == .folioLocked(F.folio0, holder: .task(3)))
        #expect(truncate.reason == "\(F.folio0) is locked")
        #expect(truncate.description == "truncate_pagecache not enabled: \(F.folio0) is locked")
    }

    /// The same guard on different profiles: 3.6 has no per-inode work, so
    /// `ext4_end_io_rsv_work` does not exist there; on 6.x it is refused
    /// because nothing queued it.
    @Test func aStepOfAnotherKernelIsNotAWait() {
        let s = F.dirtyFolioOverUnwritten()
        let old = WritebackModel(profile: .ext4_3_6)
        let new = WritebackModel(profile: .ext4_6_x)
        #expect(old.whyNotEnabled(.ext4EndIoRsvWork(F.inode), in: s) == .notInProfile(.ext4_3_6))
        #expect(new.whyNotEnabled(.ext4EndIoRsvWork(F.inode), in: s) == .workNotQueued(.inode(F.inode)))
        #expect(Self.refusal(old, .ext4EndIoRsvWork(F.inode), in: s)?.reason == "≤3.7 the work is per io_end")
    }

    @Test func aFrozenFileSystemBlocksWritersAtTheirGate() throws {
        var d = ModelDriver(.ext4_6_x, F.cleanWrittenFolio())
        d.step(.freezeSuper(task: 9, F.dev))
        d.step(.ext4Freeze(task: 9))
        let write = try #require(Self.refusal(d.model, .ext4DaWriteBegin(task: 1, F.folio0), in: d.state))
        #expect(write.blocker == .freezeBlocks(F.dev, .frozen, .sbStartWrite))
        #expect(write.reason == "sb_start_write blocks: fs is frozen")
        let fault = d.model.whyNotEnabled(.ext4PageMkwrite(task: 1, F.folio0), in: d.state)
        #expect(fault == .freezeBlocks(F.dev, .frozen, .sbStartPagefault))
        #expect(d.model.whyNotEnabled(.freezeSuper(task: 8, F.dev), in: d.state) == .freezeBlocks(F.dev, .frozen, .freezeSuper))
        #expect(d.model.whyNotEnabled(.thawSuper(task: 8, F.dev), in: d.state) == nil)
    }

    @Test func aBusyTaskAndAMissingInode() {
        var d = ModelDriver(.ext4_6_x, F.cleanWrittenFolio(dirty: true))
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        #expect(d.model.whyNotEnabled(.ext4SyncFile(task: 3, F.inode, datasync: false), in: d.state) == .taskBusy(task: 3))
        let other = InodeRef(dev: F.dev, ino: 99)
        #expect(d.model.whyNotEnabled(.ext4SyncFile(task: 4, other, datasync: false), in: d.state) == .inodeMissing(other))
        #expect(d.model.whyNotEnabled(.ext4DaWriteEnd(task: 4), in: d.state) == .taskNotAtStep(task: 4))
        #expect(d.model.whyNotEnabled(.mpageSubmitFolio(task: 3, FolioRef(inode: F.inode, index: 5)), in: d.state)
                == .notNextDirtyFolio(FolioRef(inode: F.inode, index: 5), next: F.folio0))
    }

    /// Every kind names a different case: `force` is told kinds, and two
    /// blockers of one kind must be cleared the same way.
    @Test func kindsAreDistinct() {
        let samples: [Blocker] = [.taskBusy(task: 1), .taskIdle(task: 1), .taskNotAtStep(task: 1),
                                  .folioLocked(F.folio0, holder: .worker), .folioUnderWriteback(F.folio0),
                                  .workerBusy(F.dev, running: F.inode), .workNotQueued(.ioEnd(F.io0))]
        #expect(Set(samples.map(\.kind)).count == samples.count)
    }
}
