import Testing
import TraceIO
@testable import WritebackModel

/// `force`: a step the trace shows and the model refuses is taken anyway,
/// past the blockers the caller names, and the model says what it assumed.
/// A wait the kernel went past leaves the state as it was, so the rules
/// still judge the step; a blocker the caller did not name stops it.
@Suite struct ForceTests {
    typealias F = Fixture

    static func refused(_ model: WritebackModel, _ t: Transition, in s: ModelState) throws -> NotEnabled {
        do {
            var copy = s
            _ = try model.apply(t, in: &copy)
        } catch {
            return error
        }
        Issue.record("\(t.kernelFunction) was enabled")
        throw CancellationError()
    }

    static func frozen(_ profile: KernelProfile) -> ModelDriver {
        var d = ModelDriver(profile, F.cleanWrittenFolio())
        d.step(.freezeSuper(task: 9, F.dev))
        d.step(.ext4Freeze(task: 9))
        return d
    }

    /// A write the trace shows on a frozen fs goes past `sb_start_write`;
    /// the fs stays frozen, so write_end breaks write-while-frozen.
    @Test func aWriteOnAFrozenFileSystemIsStillAWriteWhileFrozen() throws {
        var d = Self.frozen(.ext4_6_x)
        let t = Transition.ext4DaWriteBegin(task: 1, F.folio0)
        let refusal = try Self.refused(d.model, t, in: d.state)
        let forced = d.model.force(refusal, past: [.freezeBlocks], in: &d.state)
        #expect(forced.violations == [])
        #expect(forced.assumed == [.didNotWait(.freezeBlocks(F.dev, .frozen, .sbStartWrite))])
        #expect(d.state.superblocks[F.dev]?.freeze == .frozen)
        d.step(.ext4DaWriteEnd(task: 1))
        #expect(d.rules() == [.writeWhileFrozen])
    }

    /// Not named, not passed: the state is left as it was.
    @Test func aBlockerNotNamedStopsTheStep() throws {
        var d = Self.frozen(.ext4_6_x)
        let before = d.state
        let refusal = try Self.refused(d.model, .ext4DaWriteBegin(task: 1, F.folio0), in: d.state)
        let forced = d.model.force(refusal, past: [.folioLocked, .taskBusy], in: &d.state)
        #expect(forced.violations == nil)
        #expect(forced.blocker == .freezeBlocks(F.dev, .frozen, .sbStartWrite))
        #expect(forced.assumed.isEmpty)
        #expect(d.state == before)
    }

    /// Several blockers in turn: the task was inside another operation (its
    /// end not seen) and another task held `i_mutex`.
    @Test func blockersAreClearedOneAfterAnother() throws {
        var d = ModelDriver(.ext4_6_x, F.cleanWrittenFolio(dirty: true))
        d.step(.ext4Writepages(task: 1, F.inode, syncAll: false))
        d.step(.ext4Setattr(task: 2, F.inode, newSizeBlocks: 1))
        let t = Transition.ext4DaWriteBegin(task: 1, F.folio0)
        let refusal = try Self.refused(d.model, t, in: d.state)
        #expect(refusal.blocker == .taskBusy(task: 1))
        let forced = d.model.force(refusal, past: [.taskBusy, .mutexHeld], in: &d.state)
        #expect(forced.assumed == [.operationEnded(task: 1), .mutexReleased(F.inode, holder: 2)])
        #expect(forced.violations != nil)
        guard case .bufferedWrite(F.folio0)? = d.state.tasks[1]?.operation else {
            Issue.record("task 1 is not writing")
            return
        }
    }

    /// Truncate shows the folio left: its writeback had ended (I10). Every
    /// folio of the range, not just the first the model found.
    @Test func truncateEndsTheWritebackOfItsRange() throws {
        var s = F.cleanWrittenFolio()
        s.addFolio(FolioRef(inode: F.inode, index: 1), dirty: true)
        s.addFolio(FolioRef(inode: F.inode, index: 2), dirty: true)
        s.addFolio(F.folio0, dirty: true)
        var d = ModelDriver(.ext4_6_x, s)
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        for index: UInt64 in 0...2 {
            let f = FolioRef(inode: F.inode, index: index)
            d.step(.mpageSubmitFolio(task: 3, f))
            d.step(.ext4BioWriteFolio(task: 3, f))
        }
        d.step(.ext4IoSubmit(task: 3, F.io0))
        d.step(.ext4Setattr(task: 2, F.inode, newSizeBlocks: 1))
        let refusal = try Self.refused(d.model, .truncatePagecache(task: 2), in: d.state)
        #expect(refusal.blocker == .folioUnderWriteback(FolioRef(inode: F.inode, index: 1)))
        let forced = d.model.force(refusal, past: [.folioUnderWriteback], in: &d.state)
        #expect(forced.assumed == [.writebackEnded([FolioRef(inode: F.inode, index: 1), FolioRef(inode: F.inode, index: 2)])])
        #expect(forced.violations != nil)
        // Folio 0 is outside the truncated range: still under writeback.
        #expect(d.state.folio(F.folio0)?.writeback == true)
    }

    /// ≥3.11: the worker is busy with a run the trace shows ended, and the
    /// inode's work was queued by a completion the trace lost.
    @Test func theWorkersPreviousRunEndedAndTheWorkWasQueued() throws {
        let other = InodeRef(dev: F.dev, ino: 13, generation: 1)
        var d = ModelDriver(.ext4_6_x, F.dirtyFolioOverUnwritten())
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.step(.mpageSubmitFolio(task: 3, F.folio0))
        d.step(.ext4BioWriteFolio(task: 3, F.folio0))
        d.step(.ext4IoSubmit(task: 3, F.io0))
        d.step(.ext4PutIoEnd(task: 3, F.io0))
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: false))
        d.step(.ext4EndIoRsvWork(F.inode))
        d.state.addInode(other)
        let t = Transition.ext4EndIoRsvWork(other)
        let refusal = try Self.refused(d.model, t, in: d.state)
        #expect(refusal.blocker == .workNotQueued(.inode(other)))
        let forced = d.model.force(refusal, past: [.workNotQueued, .workerBusy], in: &d.state)
        #expect(forced.assumed == [.workQueued(.inode(other)), .workerRunEnded(F.dev, F.inode)])
        #expect(forced.violations == [])
        #expect(d.state.superblocks[F.dev]?.worker == nil, "the run on 13 took nothing: no io_end was listed")
    }

    /// ≤3.10 evict with io_ends pending: the trace shows evict went on; the
    /// io_ends stay, and freeing the inode breaks evict-with-pending-io.
    @Test func evictPastIoendWaitKeepsTheIoEnds() throws {
        var d = ModelDriver(.ext4_3_6, F.dirtyFolioOverUnwritten())
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.step(.mpageSubmitFolio(task: 3, F.folio0))
        d.step(.ext4BioWriteFolio(task: 3, F.folio0))
        d.step(.ext4IoSubmit(task: 3, F.io0))
        d.step(.ext4WritepagesResult(task: 3))
        d.step(.ext4EvictInode(task: 5, F.inode))
        let refusal = try Self.refused(d.model, .ext4IoendWait(task: 5), in: d.state)
        #expect(refusal.blocker == .ioEndsPending(F.inode))
        let forced = d.model.force(refusal, past: [.ioEndsPending], in: &d.state)
        #expect(forced.assumed == [.didNotWait(.ioEndsPending(F.inode))])
        #expect(d.state.inodes[F.inode]?.ioEnds.isEmpty == false)
    }

    @Test func aStepNoTraceCanForceStaysRefused() throws {
        var d = ModelDriver(.ext4_6_x, F.cleanWrittenFolio(dirty: true))
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        let other = FolioRef(inode: F.inode, index: 7)
        let refusal = try Self.refused(d.model, .mpageSubmitFolio(task: 3, other), in: d.state)
        let forced = d.model.force(refusal, past: Set(Blocker.Kind.allCases), in: &d.state)
        #expect(forced.violations == nil)
        #expect(forced.blocker == .notNextDirtyFolio(other, next: F.folio0))
    }
}
