import Testing
import TraceIO
@testable import WritebackModel

/// What a replay learns that is not a step: each fact changes exactly what
/// it says, and nothing the model still has to do itself.
@Suite struct TraceFactTests {
    typealias F = Fixture
    static let model = WritebackModel(profile: .ext4_6_x)

    /// A CONVERT no io_end covers (DIO, fallocate) converts only unwritten
    /// extents no io_end of the model will convert: extent 0 (the io_end's)
    /// stays, extent [2+2) is converted, the hole at 1 stays a hole.
    @Test func aConversionOutsideTheIoEndsLeavesTheirBlocks() {
        var s = F.dirtyFolioOverUnwritten()
        s.setExtent(F.inode, BlockRange(lblk: 2, len: 2), .unwritten)
        var d = ModelDriver(.ext4_6_x, s)
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.step(.mpageSubmitFolio(task: 3, F.folio0))
        d.step(.ext4BioWriteFolio(task: 3, F.folio0))
        Self.model.learn(.convertedOutsideIoEnds(F.inode, BlockRange(lblk: 0, len: 4)), in: &d.state)
        let extents = d.state.inodes[F.inode]!.extents
        #expect(extents.ranges(in: BlockRange(lblk: 0, len: 1), state: .unwritten) == [BlockRange(lblk: 0, len: 1)])
        #expect(extents.ranges(in: BlockRange(lblk: 1, len: 3), state: .written) == [BlockRange(lblk: 2, len: 2)])
        #expect(extents.ranges(in: BlockRange(lblk: 1, len: 1), state: .hole) == [BlockRange(lblk: 1, len: 1)])
    }

    /// A pass that mapped blocks unwritten makes written ones unwritten; a
    /// written mapping fills holes only. Without dioread_nolock the model
    /// would allocate written, so an unwritten mapping fills holes too.
    @Test(arguments: [true, false])
    func mappingsAsTheTraceShowsThem(_ dioreadNolock: Bool) {
        var s = ModelState()
        s.mount(F.dev, SuperblockState(dioreadNolock: dioreadNolock))
        s.addInode(F.inode)
        s.setExtent(F.inode, BlockRange(lblk: 0, len: 2), .written)
        Self.model.learn(.mapped(F.inode, BlockRange(lblk: 1, len: 3), unwritten: true), in: &s)
        let extents = s.inodes[F.inode]!.extents
        #expect(extents.ranges(in: BlockRange(lblk: 0, len: 1), state: .written) == [BlockRange(lblk: 0, len: 1)])
        #expect(extents.ranges(in: BlockRange(lblk: 1, len: 1), state: .unwritten) == [BlockRange(lblk: 1, len: 1)])
        let holes = extents.ranges(in: BlockRange(lblk: 2, len: 2), state: .hole)
        #expect(holes == (dioreadNolock ? [BlockRange(lblk: 2, len: 2)] : []))
        Self.model.learn(.mapped(F.inode, BlockRange(lblk: 0, len: 4), unwritten: false), in: &s)
        let after = s.inodes[F.inode]!.extents
        #expect(after.ranges(in: BlockRange(lblk: 1, len: 1), state: .unwritten) == [BlockRange(lblk: 1, len: 1)],
                "a written mapping does not undo an unwritten one")
        #expect(after.ranges(in: BlockRange(lblk: 0, len: 4), state: .hole).isEmpty)
    }

    @Test func writebackEndsOnlyWhereTheTraceSaysSo() {
        var s = F.cleanWrittenFolio(dirty: true)
        s.addFolio(FolioRef(inode: F.inode, index: 1), dirty: true)
        var d = ModelDriver(.ext4_6_x, s)
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        for index: UInt64 in 0...1 {
            d.step(.mpageSubmitFolio(task: 3, FolioRef(inode: F.inode, index: index)))
            d.step(.ext4BioWriteFolio(task: 3, FolioRef(inode: F.inode, index: index)))
        }
        Self.model.learn(.writebackEnded(F.inode, only: [1]), in: &d.state)
        #expect(d.state.inodes[F.inode]!.folios.writebackIndexes == [0])
        Self.model.learn(.writebackEnded(F.inode, only: nil), in: &d.state)
        #expect(d.state.inodes[F.inode]!.folios.writebackIndexes.isEmpty)
    }

    /// A task whose end was not seen: its `i_mutex` and locked folio are
    /// released with it; other tasks' are not.
    @Test func anOperationEndedUnseenReleasesWhatItHeld() {
        var s = F.cleanWrittenFolio(dirty: true)
        let other = InodeRef(dev: F.dev, ino: 13, generation: 1)
        s.addInode(other)
        var d = ModelDriver(.ext4_6_x, s)
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.step(.mpageSubmitFolio(task: 3, F.folio0))
        d.step(.ext4Setattr(task: 4, other, newSizeBlocks: 0))
        Self.model.learn(.operationEnded(task: 3), in: &d.state)
        #expect(d.state.tasks[3] == nil)
        #expect(d.state.folio(F.folio0)?.lockedBy == nil)
        #expect(d.state.inodes[other]?.mutexHolder == 4)
    }

    @Test func theWorkerConvertsWhatTheTraceShowsFirst() {
        var d = Self.twoIoEndsQueued()
        let io1 = IoEndRef(inode: F.inode, serial: 1)
        d.step(.ext4EndIoRsvWork(F.inode))
        #expect(d.state.superblocks[F.dev]?.worker?.local == [F.io0, io1])
        #expect(!d.isEnabled(.ext4ConvertUnwrittenIoEndVec(io1)))
        Self.model.learn(.workerTakesFirst(io1), in: &d.state)
        d.step(.ext4ConvertUnwrittenIoEndVec(io1))
        #expect(d.state.superblocks[F.dev]?.worker?.local == [F.io0])
    }

    /// An io_end added after the running work took the list begins the
    /// next list and queues the work again; the run keeps the rest.
    @Test func anIoEndAddedAfterTheTakeWaitsForTheNextRun() {
        var d = Self.twoIoEndsQueued()
        let io1 = IoEndRef(inode: F.inode, serial: 1)
        d.step(.ext4EndIoRsvWork(F.inode))
        #expect(d.state.inodes[F.inode]!.rsvWorkQueued == false)
        Self.model.learn(.addedAfterTake([io1]), in: &d.state)
        #expect(d.state.superblocks[F.dev]?.worker?.local == [F.io0])
        #expect(d.state.inodes[F.inode]!.conversionList == [1])
        #expect(d.state.ioEnd(io1)?.phase == .queued)
        #expect(d.state.inodes[F.inode]!.rsvWorkQueued, "the add to an empty list queued the work again")
        #expect(!d.isEnabled(.ext4ConvertUnwrittenIoEndVec(io1)))
        d.step(.ext4ConvertUnwrittenIoEndVec(F.io0))
        d.step(.ext4ReleaseIoEnd(F.io0))
        #expect(d.state.superblocks[F.dev]?.worker == nil)
        d.step(.ext4EndIoRsvWork(F.inode))
        d.step(.ext4ConvertUnwrittenIoEndVec(io1))
        // A fact about an io_end the run does not hold changes nothing.
        let before = d.state
        Self.model.learn(.addedAfterTake([io1]), in: &d.state)
        #expect(d.state == before)
    }

    /// Folios 0 and 1 over unwritten blocks, each written back in its own
    /// io_end (serials 0 and 1), both completed and on the conversion list.
    static func twoIoEndsQueued() -> ModelDriver {
        var d = ModelDriver(.ext4_6_x, F.dirtyFolioOverUnwritten())
        d.state.addFolio(FolioRef(inode: F.inode, index: 1), dirty: true)
        d.state.setExtent(F.inode, BlockRange(lblk: 1, len: 1), .unwritten)
        for index: UInt64 in 0...1 {
            let f = FolioRef(inode: F.inode, index: index)
            let io = IoEndRef(inode: F.inode, serial: Int(index))
            d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
            Self.model.learn(.writebackWrites(task: 3, folios: [index]), in: &d.state)
            d.step(.mpageSubmitFolio(task: 3, f))
            d.step(.ext4BioWriteFolio(task: 3, f))
            d.step(.ext4IoSubmit(task: 3, io))
            d.step(.ext4PutIoEnd(task: 3, io))
            d.step(.ext4WritepagesResult(task: 3))
            d.step(.blkMqStartRequest(BioRef(ioEnd: io, index: 0)))
            d.step(.ext4EndBio(BioRef(ioEnd: io, index: 0), error: false))
        }
        return d
    }

    /// The bio completed while the model still holds the submitter's
    /// reference, and the trace shows the conversion work running: the
    /// submitter had put first, so the completion queued the io_end, and
    /// nothing is converted inline. Without a completed bio nothing changes.
    @Test(arguments: [KernelProfile.ext4_5_10, .ext4_6_12, .ext4_6_x])
    func theSubmitterPutFirst(_ profile: KernelProfile) {
        var d = ModelDriver(profile, F.dirtyFolioOverUnwritten())
        let model = WritebackModel(profile: profile)
        d.step(.ext4Writepages(task: 3, F.inode, syncAll: false))
        d.step(.mpageSubmitFolio(task: 3, F.folio0))
        d.step(.ext4BioWriteFolio(task: 3, F.folio0))
        d.step(.ext4IoSubmit(task: 3, F.io0))
        let submitted = d.state
        model.learn(.submitterPutFirst(task: 3, F.io0), in: &d.state)
        #expect(d.state == submitted, "the bio has not completed: the submitter's put may still be the last")
        d.step(.blkMqStartRequest(F.bio0))
        d.step(.ext4EndBio(F.bio0, error: false))
        #expect(d.state.inodes[F.inode]!.rsvWorkQueued == false)
        model.learn(.submitterPutFirst(task: 3, F.io0), in: &d.state)
        #expect(d.state.tasks[3]?.writeback?.ownerReference == nil)
        #expect(d.state.inodes[F.inode]!.rsvWorkQueued)
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .unwritten, "converted by the worker, not inline")
        #expect(d.state.folio(F.folio0)?.writeback == true)
        d.step(.ext4WritepagesResult(task: 3))
        d.run(.worker)
        #expect(d.state.inodes[F.inode]!.extents.state(of: 0) == .written)
        #expect(d.state.folio(F.folio0)?.writeback == false)
    }
}
