import Testing
import TraceIO
@testable import WritebackModel

/// A replay mounts a file system without knowing its dioread_nolock
/// (`SuperblockState.dioreadNolock` nil) and learns it from the trace's
/// first unwritten mapping; the profile's default (on from 5.6) is read only
/// where a step needs it first: writeback allocating a hole. A replay that
/// stands for several profiles parts them only there (`TraitLog`).
@Suite struct DioreadNolockDefaultTests {
    typealias F = Fixture

    /// Folio 0 dirty over a hole (delayed allocation) on a mount whose
    /// option the trace has not shown; the flusher writes it back.
    static func writeBack(_ profile: KernelProfile, learnt: Bool) -> (ModelState, KernelTraitSet) {
        var s = ModelState()
        s.mount(F.dev, SuperblockState(dioreadNolock: nil))
        s.addInode(F.inode, sizeBlocks: 1)
        s.addFolio(F.folio0, dirty: true)
        let log = TraitLog()
        let model = WritebackModel(profile: profile, log: log)
        if learnt { model.learn(.dioreadNolock(F.dev), in: &s) }
        log.read = []
        var d = ModelDriver(model, s)
        d.step(.ext4Writepages(task: 1, F.inode, syncAll: false))
        d.step(.mpageSubmitFolio(task: 1, F.folio0))
        d.step(.ext4BioWriteFolio(task: 1, F.folio0))
        return (d.state, log.read)
    }

    @Test func writebackIntoAHoleTakesTheProfilesDefault() {
        let (new, newRead) = Self.writeBack(.ext4_6_x, learnt: false)
        let (old, oldRead) = Self.writeBack(.ext4_3_11, learnt: false)
        #expect(new.inodes[F.inode]!.extents.state(of: 0) == .unwritten)
        #expect(old.inodes[F.inode]!.extents.state(of: 0) == .written)
        #expect(newRead.contains(KernelTraitSet(.dioreadNolockByDefault)))
        #expect(oldRead.contains(KernelTraitSet(.dioreadNolockByDefault)))
    }

    @Test func aLearntOptionLeavesTheDefaultUnread() {
        for profile in [KernelProfile.ext4_6_x, .ext4_3_11] {
            let (s, read) = Self.writeBack(profile, learnt: true)
            #expect(s.inodes[F.inode]!.extents.state(of: 0) == .unwritten, "\(profile)")
            #expect(!read.contains(KernelTraitSet(.dioreadNolockByDefault)), "\(profile)")
        }
    }

    /// A mapping the trace shows decides the extent itself: a written one
    /// (dioread_lock) reads no default; an unwritten one over a hole does
    /// (allocation under dioread_nolock leaves it to the conversion).
    @Test func aShownMappingReadsTheDefaultOnlyWhereItDecides() {
        for (unwritten, reads) in [(false, false), (true, true)] {
            var s = ModelState()
            s.mount(F.dev, SuperblockState(dioreadNolock: nil))
            s.addInode(F.inode, sizeBlocks: 1)
            let log = TraitLog()
            let model = WritebackModel(profile: .ext4_3_11, log: log)
            model.learn(.mapped(F.inode, BlockRange(lblk: 0, len: 1), unwritten: unwritten), in: &s)
            #expect(s.inodes[F.inode]!.extents.state(of: 0) == (unwritten ? .unwritten : .written))
            #expect(log.read.contains(KernelTraitSet(.dioreadNolockByDefault)) == reads, "unwritten: \(unwritten)")
        }
    }
}
