/// An inode's page cache: folio index → folio state, plus the indexes of
/// the dirty folios and of the folios under writeback (the kernel's
/// DIRTY and WRITEBACK xarray tags). The tags are derived from the states
/// and kept up to date by the one setter, so that writeback, fsync and
/// freeze find their folios without walking a page cache of thousands of
/// clean ones. Equality and hashing look at the states only: the tags add
/// nothing to a model state's identity.
public struct FolioTable: Hashable, Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var states: [UInt64: FolioState] = [:]
    /// PAGECACHE_TAG_DIRTY.
    public private(set) var dirtyIndexes: Set<UInt64> = []
    /// PAGECACHE_TAG_WRITEBACK.
    public private(set) var writebackIndexes: Set<UInt64> = []

    public init() {}

    public init(dictionaryLiteral elements: (UInt64, FolioState)...) {
        for (index, folio) in elements { self[index] = folio }
    }

    public subscript(index: UInt64) -> FolioState? {
        get { states[index] }
        set {
            // One hash of the index for the lookup and the store.
            let old = newValue.map { states.updateValue($0, forKey: index) } ?? states.removeValue(forKey: index)
            if old?.dirty != newValue?.dirty {
                if newValue?.dirty == true { dirtyIndexes.insert(index) } else { dirtyIndexes.remove(index) }
            }
            if old?.writeback != newValue?.writeback {
                if newValue?.writeback == true { writebackIndexes.insert(index) } else { writebackIndexes.remove(index) }
            }
        }
    }

    public var keys: Dictionary<UInt64, FolioState>.Keys { states.keys }
    public var values: Dictionary<UInt64, FolioState>.Values { states.values }
    public var count: Int { states.count }
    public var isEmpty: Bool { states.isEmpty }

    public func makeIterator() -> Dictionary<UInt64, FolioState>.Iterator { states.makeIterator() }

    public func filter(_ isIncluded: (Dictionary<UInt64, FolioState>.Element) throws -> Bool) rethrows -> [UInt64: FolioState] {
        try states.filter(isIncluded)
    }

    public static func == (a: FolioTable, b: FolioTable) -> Bool { a.states == b.states }
    public func hash(into hasher: inout Hasher) { hasher.combine(states) }
}
