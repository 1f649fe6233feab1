import Testing
@testable import WritebackModel

/// The traits through which the model and the replay read a profile, and
/// the log a replay of several profiles keeps of them (`ProfileGroups`).
@Suite struct KernelTraitsTests {
    @Test func profilesDifferInTheTraitsTheirCommentsName() {
        #expect(KernelProfile.disagreement(among: [.ext4_6_x, .ext4_6_15])
            == [KernelTraitSet(.putDeferDisagreesWithEndBio), KernelTraitSet(.identity)])
        #expect(KernelProfile.disagreement(among: [.ext4_3_7, .ext4_3_7_v4])
            == [KernelTraitSet(.flushWaitsForUnwritten), KernelTraitSet(.identity)])
        #expect(KernelProfile.disagreement(among: [.ext4_5_10, .ext4_3_11])
            == [KernelTraitSet(.dioreadNolockByDefault), KernelTraitSet(.identity)])
        #expect(KernelProfile.disagreement(among: [.ext4_6_12]).isEmpty)
        #expect(KernelProfile.ext4_6_12.agrees(with: .ext4_5_10, on: [KernelTraitSet(.refcountedIoEnd)]))
        #expect(!KernelProfile.ext4_6_12.agrees(with: .ext4_5_10, on: [KernelTraitSet(.skipsConversionOfFailedIO)]))
        #expect(!KernelProfile.ext4_6_12.agrees(with: .ext4_5_10, on: [KernelTraitSet(.identity)]))
    }

    @Test func aLogSeesEveryTraitRead() {
        let log = TraitLog()
        let traits = KernelTraits(.ext4_6_15, log: log)
        #expect(traits.refcountedIoEnd)
        #expect(traits.identity == .ext4_6_15)
        #expect(log.read == [KernelTraitSet(.refcountedIoEnd), KernelTraitSet(.identity)])
        log.read = []
        #expect(!traits.workerNeedsInodeMutex)
        #expect(log.read == KernelTraitSet(.workerNeedsInodeMutex))
        // Without a log nothing is noted, and the answers are the same.
        #expect(KernelTraits(.ext4_6_15).putDeferDisagreesWithEndBio == traits.putDeferDisagreesWithEndBio)
    }

    /// The model reads its profile through the log: a submit asks whether
    /// io_ends are refcounted.
    @Test func theModelReadsItsProfileThroughTheLog() throws {
        let log = TraitLog()
        let model = WritebackModel(profile: .ext4_6_x, log: log)
        #expect(model.traits == KernelTraits(.ext4_6_x))
        #expect(model.traits.workPerInode)
        #expect(log.read.contains(KernelTraitSet(.workPerInode)))
    }
}
