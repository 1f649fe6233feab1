import Testing
import TraceIO
@testable import WritebackModel

/// Drives the model through a sequence of transitions the way a test (or a
/// replay) would, recording every violation.
struct ModelDriver {
    let model: WritebackModel
    var state: ModelState
    var violations: [RuleViolation] = []
    var steps: [Transition] = []

    init(_ profile: KernelProfile, _ state: ModelState) {
        self.init(WritebackModel(profile: profile), state)
    }

    /// A model built otherwise (one that notes the traits it reads, say).
    init(_ model: WritebackModel, _ state: ModelState) {
        self.model = model
        self.state = state
    }

    mutating func step(_ t: Transition, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let next = try model.apply(t, to: state)
            state = next.state
            violations += next.violations
            steps.append(t)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    /// Takes the actor's enabled transitions one at a time (the first each
    /// time) until it has none left or `limit` steps were taken.
    mutating func run(_ actor: ActorRef, limit: Int = 50) {
        for _ in 0..<limit {
            guard let t = model.enabledTransitions(in: state, actors: [actor]).first else { return }
            step(t)
        }
    }

    func enabled(_ actor: ActorRef) -> [Transition] { model.enabledTransitions(in: state, actors: [actor]) }
    func isEnabled(_ t: Transition) -> Bool { model.isEnabled(t, in: state) }
    func rules() -> Set<RuleID> { Set(violations.map(\.rule)) }
}

enum Fixture {
    static let dev = DeviceNumber(major: 7, minor: 0)
    static let inode = InodeRef(dev: dev, ino: 12, generation: 1)
    static let folio0 = FolioRef(inode: inode, index: 0)
    static let io0 = IoEndRef(inode: inode, serial: 0)
    static let bio0 = BioRef(ioEnd: io0, index: 0)

    /// A file whose block 0 was fallocated (unwritten) and whose folio 0 was
    /// just written by write(2): dirty, not yet written back.
    static func dirtyFolioOverUnwritten(_ sb: SuperblockState = SuperblockState()) -> ModelState {
        var s = ModelState()
        s.mount(dev, sb)
        s.addInode(inode, sizeBlocks: 1)
        s.setExtent(inode, BlockRange(lblk: 0, len: 1), .unwritten)
        s.addFolio(folio0, dirty: true)
        return s
    }

    /// Block 0 already written; folio 0 clean in the page cache.
    static func cleanWrittenFolio(_ sb: SuperblockState = SuperblockState(), pte: PteState = .none,
                                  dirty: Bool = false) -> ModelState {
        var s = ModelState()
        s.mount(dev, sb)
        s.addInode(inode, sizeBlocks: 1)
        s.setExtent(inode, BlockRange(lblk: 0, len: 1), .written)
        s.addFolio(folio0, dirty: dirty, pte: pte)
        return s
    }
}
