import TraceIO

/// Reads typed fields of one event by name, trying each alternative name in
/// turn (kernel versions rename fields: `index` vs `folio_index`). The first
/// field found under none of its names is remembered in `missing`; a decoder
/// whose reader has a missing field yields no typed value at all, so no
/// placeholder value ever escapes.
struct FieldReader {
    /// Where values come from: an event's fields (only the fields: a copy of
    /// the whole event would retain its strings too), or else a reader's
    /// view, through state its decoder keeps in place for the call (a
    /// reader holding the view and its script was copied per event).
    private let fields: EventFields?
    private let reading: UnsafeMutablePointer<ViewReading>?
    private(set) var missing: String?
    /// When set, every field name asked for is collected (to tell readers
    /// which fields to decode).
    var requested: Set<String>?

    init(_ event: TraceEvent) {
        fields = event.fields
        reading = nil
    }

    /// Reads through `reading`, which must outlive the reader.
    init(_ reading: UnsafeMutablePointer<ViewReading>) {
        fields = nil
        self.reading = reading
    }

    /// The value of the first of the names that the event has; nil if none.
    private mutating func lookup(_ first: String, _ others: [String]) -> FieldValue? {
        if requested != nil { requested!.insert(first); requested!.formUnion(others) }
        if let reading { return reading.pointee.lookup(first, others) }
        if let v = fields![first] { return v }
        for name in others {
            if let v = fields![name] { return v }
        }
        return nil
    }

    // Accessors take the first name apart from its alternatives: most
    // fields have none, and an empty variadic list allocates nothing.
    private mutating func value(_ first: String, _ others: [String]) -> FieldValue? {
        if let v = lookup(first, others) { return v }
        if missing == nil { missing = ([first] + others).joined(separator: "|") }
        return nil
    }

    mutating func u(_ first: String, _ others: String...) -> UInt64 {
        guard let v = value(first, others) else { return 0 }
        if let n = v.uint64 { return n }
        if missing == nil { missing = first + " (not a number)" }
        return 0
    }

    mutating func i(_ first: String, _ others: String...) -> Int64 {
        guard let v = value(first, others) else { return 0 }
        switch v {
        case .signed(let n): return n
        case .unsigned(let n): return Int64(bitPattern: n)
        default:
            if missing == nil { missing = first + " (not a number)" }
            return 0
        }
    }

    /// A device field; a reader that could not tell a `dev_t` gives the raw
    /// kernel encoding as a number, which is decoded here.
    mutating func dev(_ first: String, _ others: String...) -> DeviceNumber {
        guard let v = value(first, others) else { return DeviceNumber(major: 0, minor: 0) }
        switch v {
        case .device(let d): return d
        case .unsigned(let n): return DeviceNumber(kernelEncoded: n)
        case .signed(let n): return DeviceNumber(kernelEncoded: UInt64(bitPattern: n))
        case .string(let s):
            if let d = DeviceNumber(s) { return d }
            if missing == nil { missing = first + " (not a device)" }
            return DeviceNumber(major: 0, minor: 0)
        }
    }

    mutating func string(_ first: String, _ others: String...) -> String {
        guard let v = value(first, others) else { return "" }
        return v.description
    }

    /// A symbolic-flags field: the readers give the numeric value; a source
    /// that only printed names (`CREATE|UNWRIT`, `NMU`) is decoded with `table`.
    mutating func flags(_ first: String, _ others: [String], _ table: [(UInt64, String)], separator: Character?) -> UInt64 {
        guard let v = value(first, others) else { return 0 }
        if let n = v.uint64 { return n }
        guard case .string(let text) = v else { return 0 }
        if text.hasPrefix("0x"), let n = UInt64(text.dropFirst(2), radix: 16) { return n }
        var result: UInt64 = 0
        let tokens: [Substring] = separator.map { text.split(separator: $0) } ?? text.map { Substring(String($0)) }
        for token in tokens {
            guard let bit = table.first(where: { $0.1 == token })?.0 else {
                if missing == nil { missing = first + " (unknown flag \(token))" }
                return 0
            }
            result |= bit
        }
        return result
    }

    /// An optional field that older formats lack and whose absence has a
    /// meaning (e.g. no `order`: the kernel had no large folios, order 0).
    mutating func optionalUInt(_ name: String) -> UInt64? {
        lookup(name, [])?.uint64
    }

    /// A signed number field some formats lack (a syscall's arguments).
    mutating func optionalInt(_ name: String) -> Int64? {
        lookup(name, [])?.int64
    }

    mutating func optionalString(_ name: String) -> String? {
        guard let v = lookup(name, []) else { return nil }
        if case .string(let s) = v { return s }
        return nil
    }

    /// The value of field `name` whatever its kind, when the event has it.
    mutating func optionalValue(_ name: String) -> FieldValue? {
        lookup(name, [])
    }

}

extension FieldReader {
    /// `(dev, ino)` of an ext4/jbd2-style event.
    mutating func ext4Inode() -> InodeRef { InodeRef(dev: dev("dev"), ino: u("ino")) }
    /// `(s_dev, i_ino)` of a filemap event.
    mutating func filemapInode() -> InodeRef { InodeRef(dev: dev("s_dev", "dev"), ino: u("i_ino", "ino")) }

    mutating func mapFlags(_ first: String, _ others: String...) -> MapFlags {
        MapFlags(rawValue: flags(first, others, Self.mapFlagNames, separator: "|"))
    }

    mutating func resultFlags(_ first: String, _ others: String...) -> MapResultFlags {
        MapResultFlags(rawValue: flags(first, others, Self.resultFlagNames, separator: nil))
    }

    mutating func extentStatus(_ first: String, _ others: String...) -> ExtentStatus {
        ExtentStatus(rawValue: flags(first, others, Self.extentStatusNames, separator: nil))
    }

    // Built once: a table literal at the call would be allocated per event.
    static let mapFlagNames = MapFlags.names.map { ($0.0.rawValue, $0.1) }
    static let resultFlagNames: [(UInt64, String)] = [
        (MapResultFlags.new.rawValue, "N"), (MapResultFlags.mapped.rawValue, "M"),
        (MapResultFlags.unwritten.rawValue, "U"), (MapResultFlags.boundary.rawValue, "B")]
    static let extentStatusNames: [(UInt64, String)] = [(1, "W"), (2, "U"), (4, "D"), (8, "H"), (16, "R")]
}
