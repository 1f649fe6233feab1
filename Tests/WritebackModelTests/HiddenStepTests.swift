import Testing
@testable import WritebackModel

/// The submitter's io_end put is a hidden step: a trace that shows the
/// work queued, or the worker converting the io_end, places it before the
/// completion; one that shows neither leaves it to the submitter.
@Suite struct HiddenStepTests {
    typealias F = Fixture

    /// fsync's writeback of one folio over an unwritten extent; the bio
    /// completed while the submitter still holds its reference.
    static func completedWhileHeld(_ profile: KernelProfile = .ext4_6_x, complete: Bool = true,
                                   start: Transition = .ext4SyncFile(task: 1, F.inode, datasync: true)) -> ModelDriver {
        var d = ModelDriver(profile, F.dirtyFolioOverUnwritten())
        d.step(start)
        d.step(.mpageSubmitFolio(task: 1, F.folio0))
        d.step(.ext4BioWriteFolio(task: 1, F.folio0))
        d.step(.ext4IoSubmit(task: 1, F.io0))
        if complete {
            d.step(.blkMqStartRequest(F.bio0))
            d.step(.ext4EndBio(F.bio0, error: false))
        }
        return d
    }

    @Test func theWorkRunningPutsTheSubmitterFirst() {
        var d = Self.completedWhileHeld()
        #expect(!d.isEnabled(.ext4EndIoRsvWork(F.inode)))
        let hidden = d.model.takeHiddenSteps(enabling: .ext4EndIoRsvWork(F.inode), in: &d.state)
        #expect(hidden == [.submitterPutBeforeCompletion(task: 1, F.io0, takenByRun: false)])
        #expect(d.state.tasks[1]?.writeback?.ownerReference == nil)
        #expect(d.state.inodes[F.inode]!.rsvWorkQueued)
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .unwritten, "no inline conversion")
        d.step(.ext4EndIoRsvWork(F.inode))
        d.step(.ext4ConvertUnwrittenIoEndVec(F.io0))
        d.step(.ext4ReleaseIoEnd(F.io0))
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .written)
        #expect(d.state.folio(F.folio0)?.writeback == false)
        #expect(d.violations.isEmpty)
    }

    @Test func theWorkerConvertingTookItWithTheList() {
        var d = Self.completedWhileHeld()
        #expect(!d.isEnabled(.ext4ConvertUnwrittenIoEndVec(F.io0)))
        let hidden = d.model.takeHiddenSteps(enabling: .ext4ConvertUnwrittenIoEndVec(F.io0), in: &d.state)
        #expect(hidden == [.submitterPutBeforeCompletion(task: 1, F.io0, takenByRun: true)])
        #expect(d.state.superblocks[F.dev]?.worker?.local == [F.io0])
        #expect(!d.state.inodes[F.inode]!.rsvWorkQueued, "its add was in the list the run took")
        d.step(.ext4ConvertUnwrittenIoEndVec(F.io0))
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .written)
    }

    @Test func aQueueingAfterTheCompletionPutsTheSubmitterFirst() {
        var d = Self.completedWhileHeld()
        var other = d.state
        #expect(d.model.takeHiddenSteps(queueingWorkOf: F.inode, completing: [], in: &other).isEmpty)
        #expect(other == d.state)
        let hidden = d.model.takeHiddenSteps(queueingWorkOf: F.inode, completing: [F.io0], in: &d.state)
        #expect(hidden == [.submitterPutBeforeCompletion(task: 1, F.io0, takenByRun: false)])
        #expect(d.state.inodes[F.inode]!.rsvWorkQueued)
    }

    /// Negative: before the bio completes, no put of the submitter makes
    /// the work run; the state stays as it was.
    @Test func nothingBeforeTheCompletion() {
        var d = Self.completedWhileHeld(complete: false)
        let before = d.state
        #expect(d.model.takeHiddenSteps(enabling: .ext4EndIoRsvWork(F.inode), in: &d.state).isEmpty)
        #expect(d.model.takeHiddenSteps(enabling: .ext4ConvertUnwrittenIoEndVec(F.io0), in: &d.state).isEmpty)
        #expect(d.state == before)
    }

    /// Negative: ≤3.10 has no submitter reference and no per-inode work.
    @Test func noneBefore311() {
        var d = Self.completedWhileHeld(.ext4_3_7, start: .ext4Writepages(task: 1, F.inode, syncAll: false))
        #expect(d.model.takeHiddenSteps(enabling: .ext4EndIoRsvWork(F.inode), in: &d.state).isEmpty)
    }
}
