/// Event format texts of a trace.dat, in file order, gathered to be checked
/// by `DatEventFormatCheck` — on one thread (`check()`) or in slices on
/// several (`firstDamage(in:)`), with the same answer: the damage of the
/// first format in file order that has one.
///
/// Why gathered: a file from `trace-cmd record` or `extract` holds every
/// format of the kernel (2 383 on 6.18), and checking them is most of what
/// the checks before libtracecmd's open cost; in slices beside the sections
/// and the CPU streams' first chunks (`DatV7OpenChecks`) both cores share it.
struct DatFormatTexts {
    enum Item {
        /// Format `index` of `system`.
        case text(system: String, index: UInt64, bytes: [UInt8])
        /// What the walk found wrong at this point of the list.
        case damage(DatDamage)
    }

    private(set) var items: [Item] = []
    /// The offset past the list, nil where it is cut off (libtracecmd stops
    /// reading there too).
    var end: UInt64?

    /// Gathers `count` formats (size (8), then text) at `offset`; returns the
    /// offset past them, or nil where a size or text is cut off or a size is
    /// damage (then an item says so).
    mutating func gather(_ source: DatByteSource, at offset: UInt64, count: UInt64, system: String) -> UInt64? {
        var at = offset
        for index in 0..<count {
            guard let size = source.number(at: at, width: 8) else { return nil }
            guard size <= DatFormatSections.maximumFormat else {
                items.append(.damage(DatDamage("event format \(index) of \(system) claims \(size) bytes")))
                return nil
            }
            guard let text = source.bytes(at: at + 8, count: size) else { return nil }
            items.append(.text(system: system, index: index, bytes: text))
            at += 8 + size
        }
        return at
    }

    mutating func append(_ other: DatFormatTexts) { items += other.items }

    /// Throws the first damage; returns `end`.
    func check() throws(DatDamage) -> UInt64? {
        if let damage = firstDamage(in: items.indices) { throw damage }
        return end
    }

    /// The damage of the first item in `range` that has one.
    func firstDamage(in range: Range<Int>) -> DatDamage? {
        for item in items[range] {
            switch item {
            case .damage(let damage):
                return damage
            case .text(let system, let index, let bytes):
                if let reason = bytes.withUnsafeBytes({ DatEventFormatCheck.damage(in: $0) }) {
                    return DatDamage("event format \(index) of \(system): \(reason)")
                }
            }
        }
        return nil
    }

    /// `items`' indices in `count` consecutive slices of about equal size.
    func slices(_ count: Int) -> [Range<Int>] {
        let n = items.count
        let parts = max(1, min(count, n))
        return (0..<parts).map { k in (k * n / parts)..<((k + 1) * n / parts) }
    }
}
