import TraceIO

/// The whole model state: a value, hashable, independent of any trace. An
/// explorer hashes it; a replay keeps one and applies transitions to it.
///
/// Outside the model it is read-only, but for the set-up below: it changes
/// through transitions (`WritebackModel.apply`), a step the trace shows and
/// the model refused (`force`), or a fact the trace shows (`learn`), so
/// that how a state is made to agree with a trace is the model's knowledge.
public struct ModelState: Hashable, Sendable {
    public internal(set) var superblocks: [DeviceNumber: SuperblockState] = [:]
    public internal(set) var inodes: [InodeRef: InodeState] = [:]
    public internal(set) var tasks: [Int: TaskState] = [:]

    public init() {}

    // MARK: Set-up (initial states, not transitions)

    /// Mounts a file system.
    public mutating func mount(_ dev: DeviceNumber, _ superblock: SuperblockState = SuperblockState()) {
        superblocks[dev] = superblock
    }

    /// An inode that already exists when the model starts.
    public mutating func addInode(_ inode: InodeRef, sizeBlocks: UInt64 = 0) {
        inodes[inode] = InodeState(lifecycle: .live, sizeBlocks: sizeBlocks)
    }

    /// Sets on-disk extent state directly (e.g. a range fallocated earlier).
    public mutating func setExtent(_ inode: InodeRef, _ range: BlockRange, _ state: ExtentState) {
        inodes[inode]?.extents.set(range, to: state)
    }

    /// A folio already in the page cache (clean, uptodate) when the model starts.
    public mutating func addFolio(_ folio: FolioRef, dirty: Bool = false, pte: PteState = .none) {
        var f = FolioState()
        f.dirty = dirty
        f.pte = pte
        if pte == .writable { f.pteDirty = dirty }
        inodes[folio.inode]?.folios[folio.index] = f
    }

    // MARK: Lookup

    public func folio(_ ref: FolioRef) -> FolioState? { inodes[ref.inode]?.folios[ref.index] }
    /// In the page cache: the inode's folio table has it.
    public func isInPageCache(_ ref: FolioRef) -> Bool { folio(ref) != nil }
    public func ioEnd(_ ref: IoEndRef) -> IoEndState? { inodes[ref.inode]?.ioEnds[ref.serial] }
    public func bio(_ ref: BioRef) -> BioState? {
        guard let io = ioEnd(ref.ioEnd), ref.index < io.bios.count else { return nil }
        return io.bios[ref.index]
    }

    /// The blocks a folio covers.
    public func blocks(of folio: FolioRef) -> BlockRange {
        let per = superblocks[folio.inode.dev]?.blocksPerFolio ?? 1
        return BlockRange(lblk: folio.index * per, len: per)
    }

    /// Inodes in a deterministic order (Dictionary order is per-process random).
    var sortedInodes: [InodeRef] { inodes.keys.sorted() }

    func sortedFolios(of inode: InodeRef) -> [FolioRef] {
        (inodes[inode]?.folios.keys.sorted() ?? []).map { FolioRef(inode: inode, index: $0) }
    }

    /// An io_end of the inode that still has a conversion ahead of it.
    func conversionPending(_ io: IoEndState) -> Bool {
        io.flags.contains(.unwritten) && io.phase >= .submitted && io.phase < .converted
    }

    // MARK: Mutation helpers used by transitions

    /// Changes one inode in place (one hash of its ref); nil if absent.
    @inline(__always) @discardableResult
    mutating func updateInode<R>(_ ref: InodeRef, _ body: (inout InodeState) -> R) -> R? {
        guard let i = inodes.index(forKey: ref) else { return nil }
        return body(&inodes.values[i])
    }

    mutating func updateFolio(_ ref: FolioRef, _ body: (inout FolioState) -> Void) {
        updateInode(ref.inode) { inode in
            guard var f = inode.folios[ref.index] else { return }
            body(&f)
            inode.folios[ref.index] = f
        }
    }

    mutating func updateIoEnd(_ ref: IoEndRef, _ body: (inout IoEndState) -> Void) {
        updateInode(ref.inode) { inode in
            guard let i = inode.ioEnds.index(forKey: ref.serial) else { return }
            body(&inode.ioEnds.values[i])
        }
    }

    mutating func updateTask(_ id: Int, _ body: (inout TaskState) -> Void) {
        guard var t = tasks[id] else { return }
        body(&t)
        tasks[id] = t
    }
}
