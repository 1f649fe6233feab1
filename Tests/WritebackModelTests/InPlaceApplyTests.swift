import Testing
@testable import WritebackModel

/// The in-place `apply(_:in:)` a replay uses must agree with `apply(_:to:)`.
@Suite struct InPlaceApplyTests {
    typealias F = Fixture

    @Test(arguments: KernelProfile.allCases)
    func inPlaceMatchesCopyingApply(_ profile: KernelProfile) {
        let model = WritebackModel(profile: profile)
        var copying = F.dirtyFolioOverUnwritten(SuperblockState(stableWrites: true, ioErrorsPossible: true))
        var inPlace = copying
        var allCopying: [RuleViolation] = []
        var allInPlace: [RuleViolation] = []
        let script: [Transition] = [.ext4SyncFile(task: 1, F.inode, datasync: false)]
        for t in script {
            allCopying += try! model.apply(t, to: copying).violations
            copying = try! model.apply(t, to: copying).state
            allInPlace += try! model.apply(t, in: &inPlace)
        }
        // Then always take the first enabled transition of every actor.
        let actors: [ActorRef] = [.task(1), .blockDevice, .worker, .reclaim]
        for _ in 0..<40 {
            guard let t = model.enabledTransitions(in: copying, actors: actors).first else { break }
            let step = try! model.apply(t, to: copying)
            copying = step.state
            allCopying += step.violations
            allInPlace += try! model.apply(t, in: &inPlace)
            #expect(copying == inPlace)
        }
        #expect(allCopying == allInPlace)
    }

    @Test func failedInPlaceApplyLeavesStateUnchanged() {
        let model = WritebackModel(profile: .ext4_6_x)
        var s = F.dirtyFolioOverUnwritten()
        let original = s
        #expect(throws: NotEnabled.self) { _ = try model.apply(.ext4EndBio(F.bio0, error: false), in: &s) }
        #expect(s == original)
    }
}

/// Every guard runs before any mutation: a disabled transition leaves the
/// state untouched, in every state of a whole exploration, for every
/// candidate of every actor (enabled or not) and a set of task operations.
@Suite struct GuardContractTests {
    typealias F = Fixture

    @Test(arguments: KernelProfile.allCases)
    func disabledTransitionsDoNotMutate(_ profile: KernelProfile) {
        let model = WritebackModel(profile: profile)
        var start = F.dirtyFolioOverUnwritten(SuperblockState(stableWrites: true, ioErrorsPossible: true))
        start.addFolio(FolioRef(inode: F.inode, index: 1), dirty: true, pte: .writable)
        start = try! model.apply(.ext4SyncFile(task: 1, F.inode, datasync: false), to: start).state
        let actors: [ActorRef] = [.task(1), .blockDevice, .worker]
        let probes: [Transition] = [
            .ext4DaWriteBegin(task: 2, F.folio0), .ext4PageMkwrite(task: 2, F.folio0),
            .ext4Setattr(task: 2, F.inode, newSizeBlocks: 0), .ext4EvictInode(task: 2, F.inode),
            .freezeSuper(task: 2, F.dev), .ext4FlushCompletedIO(task: 1), .ext4UnwrittenWait(task: 1),
            .truncatePagecache(task: 1), .ext4ReleaseIoEnd(F.io0), .ext4FreeIoEnds(F.inode),
        ]
        var seen: Set<ModelState> = [start]
        var frontier = [start]
        var checked = 0
        while let s = frontier.popLast(), seen.count < 2000 {
            let all = actors.flatMap { model.candidates(for: $0, in: s) } + [.ext4PutIoEnd(task: 1, F.io0)] + probes
            for t in all {
                var scratch = s
                if model.perform(t, on: &scratch) != nil {
                    #expect(scratch == s, "\(t.kernelFunction) mutated the state before failing")
                    checked += 1
                } else if actors.contains(t.actor), seen.insert(scratch).inserted {
                    frontier.append(scratch)
                }
            }
        }
        #expect(checked > 10)
    }
}
