import TraceIO

/// An inode's page cache: folio index → folio state, plus the indexes of
/// the dirty folios and of the folios under writeback (the kernel's DIRTY
/// and WRITEBACK xarray tags) and of the locked ones. The tags are derived
/// from the states and kept up to date by the one setter, so that
/// writeback, fsync and freeze find their folios without walking a page
/// cache of thousands of clean ones. Equality and hashing look at the
/// states only: the tags add nothing to a model state's identity.
public struct FolioTable: Hashable, Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// The states, by `Index` (a folio index with a cheap hash): every
    /// profile's replay looks folios up several times per event.
    private var table: [Index: FolioState] = [:]
    /// PAGECACHE_TAG_DIRTY.
    public private(set) var dirtyIndexes: Set<UInt64> = []
    /// PAGECACHE_TAG_WRITEBACK.
    public private(set) var writebackIndexes: Set<UInt64> = []
    /// The locked folios (PG_locked is a folio flag, not a tag: kept here so
    /// that fsync finds the few a writer or another pass holds without
    /// looking up every folio it covers).
    public private(set) var lockedIndexes: Set<UInt64> = []

    /// A folio index as the table's key: a multiply-xorshift with the
    /// table's seed (as `InodeRef`), not a SipHash round per lookup.
    public struct Index: Hashable, Sendable {
        public var index: UInt64
        public func hash(into hasher: inout Hasher) { hasher.combine(index) }
        public func _rawHashValue(seed: Int) -> Int { WordHash.fold(index &* 0xC2B2_AE3D_27D4_EB4F, seed: seed) }
    }

    public init() {}

    public init(dictionaryLiteral elements: (UInt64, FolioState)...) {
        for (index, folio) in elements { self[index] = folio }
    }

    public subscript(index: UInt64) -> FolioState? {
        get { table[Index(index: index)] }
        set {
            // One hash of the index for the lookup and the store.
            let key = Index(index: index)
            let old = newValue.map { table.updateValue($0, forKey: key) } ?? table.removeValue(forKey: key)
            if old?.dirty != newValue?.dirty {
                if newValue?.dirty == true { dirtyIndexes.insert(index) } else { dirtyIndexes.remove(index) }
            }
            if old?.writeback != newValue?.writeback {
                if newValue?.writeback == true { writebackIndexes.insert(index) } else { writebackIndexes.remove(index) }
            }
            if (old?.lockedBy == nil) != (newValue?.lockedBy == nil) {
                if newValue?.lockedBy != nil { lockedIndexes.insert(index) } else { lockedIndexes.remove(index) }
            }
        }
    }

    /// The states by folio index (a copy: for reports and tests, not per event).
    public var states: [UInt64: FolioState] {
        Dictionary(uniqueKeysWithValues: table.lazy.map { ($0.key.index, $0.value) })
    }

    public var keys: LazyMapSequence<Dictionary<Index, FolioState>.Keys, UInt64> { table.keys.lazy.map(\.index) }
    public var values: Dictionary<Index, FolioState>.Values { table.values }
    public var count: Int { table.count }
    public var isEmpty: Bool { table.isEmpty }

    public struct Iterator: IteratorProtocol {
        var base: Dictionary<Index, FolioState>.Iterator
        public mutating func next() -> (key: UInt64, value: FolioState)? {
            base.next().map { (key: $0.key.index, value: $0.value) }
        }
    }

    public func makeIterator() -> Iterator { Iterator(base: table.makeIterator()) }

    public func filter(_ isIncluded: ((key: UInt64, value: FolioState)) throws -> Bool) rethrows -> [UInt64: FolioState] {
        var kept: [UInt64: FolioState] = [:]
        for element in self where try isIncluded(element) { kept[element.key] = element.value }
        return kept
    }

    public static func == (a: FolioTable, b: FolioTable) -> Bool { a.table == b.table }
    public func hash(into hasher: inout Hasher) { hasher.combine(table) }
}
