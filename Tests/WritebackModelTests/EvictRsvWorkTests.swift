import Testing
@testable import WritebackModel

/// CVE-2025-38580 (6.15, fixed by c678bdc99875): an overwrite whose bio
/// fails without data_err=abort. ext4_end_bio does not defer it and
/// finishes the bio (the inode's last writeback ends), but
/// ext4_put_io_end_defer queues it for ext4_end_io_rsv_work; the inode is
/// evicted and freed before the work runs.
@Suite struct EvictRsvWorkTests {
    typealias F = Fixture

    static func failedOverwrite(_ profile: KernelProfile) -> ModelDriver {
        var d = ModelDriver(profile, F.cleanWrittenFolio(SuperblockState(ioErrorsPossible: true), dirty: true))
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.run(.task(3))
        d.step(.blkMqStartRequest(F.bio0))
        #expect(d.enabled(.blockDevice).contains(.ext4EndBio(F.bio0, error: true)))
        d.step(.ext4EndBio(F.bio0, error: true))
        return d
    }

    @Test func evictBeforeRsvWorkOn615() {
        var d = Self.failedOverwrite(.ext4_6_15)
        #expect(d.state.folio(F.folio0)?.writeback == false)
        #expect(d.state.inodes[F.inode]!.rsvWorkQueued)
        d.step(.ext4EvictInode(task: 5, F.inode))
        d.run(.task(5))
        #expect(d.rules() == [.evictWithPendingIO])
        #expect(d.violations.first?.ioEnd == F.io0 && d.violations.first?.transition == .ext4FreeInode(task: 5))
        // The queued work still runs: on freed memory.
        #expect(d.enabled(.worker) == [.ext4EndIoRsvWork(F.inode)])
    }

    @Test func fixedIn6x() {
        var d = Self.failedOverwrite(.ext4_6_x)
        #expect(d.state.inodes[F.inode]!.ioEnds.isEmpty, "released in ext4_end_bio")
        #expect(!d.state.inodes[F.inode]!.rsvWorkQueued)
        d.step(.ext4EvictInode(task: 5, F.inode))
        d.run(.task(5))
        #expect(d.violations.isEmpty)
        #expect(d.enabled(.worker).isEmpty)
    }

    /// 6.x with data_err=abort defers the FAILED io_end like an unwritten
    /// one: writeback stays set until the worker released it, so evict waits.
    @Test func dataErrAbortDefersIn6x() {
        var sb = SuperblockState(dataErrAbort: true, ioErrorsPossible: true)
        sb.dioreadNolock = true
        var d = ModelDriver(.ext4_6_x, F.cleanWrittenFolio(sb, dirty: true))
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.run(.task(3))
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: true))
        #expect(d.state.folio(F.folio0)?.writeback == true)
        d.step(.ext4EvictInode(task: 5, F.inode))
        #expect(!d.isEnabled(.truncateInodePagesFinal(task: 5)))
        d.run(.worker)
        d.run(.task(5))
        #expect(d.violations.isEmpty)
    }
}
