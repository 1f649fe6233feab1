/// A `__print_flags` or `__print_symbolic` table of a tracepoint's print fmt:
/// how a printed name (`CREATE|UNWRIT`, `UR`, `be`) maps back to the number
/// the field holds. The tables are generated from the format files
/// (Generated/FlagTables.swift). A class: the matcher passes tables around
/// in its hot loop.
final class FlagTable: Sendable {
    /// `__print_flags` (names joined by `delimiter`) or `__print_symbolic` (one name).
    let isFlags: Bool
    /// The flags delimiter; `""` for single-letter flags printed back to back (`UR`).
    let delimiter: [UInt8]
    /// Whether libtraceevent can evaluate the table's values. Tables whose
    /// values are macros the format file does not expand (I_DIRTY_SYNC,
    /// IOPRIO_CLASS_BE) print wrongly in `trace-cmd report`: every name
    /// evaluates to 0 there, so a value of 0 prints as the first name and any
    /// other value as hex.
    let resolvable: Bool
    let values: [UInt64]
    let names: [[UInt8]]

    init(isFlags: Bool, delimiter: String, resolvable: Bool, entries: [(UInt64, String)]) {
        self.isFlags = isFlags
        self.delimiter = Array(delimiter.utf8)
        self.resolvable = resolvable
        self.values = entries.map(\.0)
        // Longest names first, so that greedy matching of undelimited flags
        // never takes a prefix of a longer name.
        let names = entries.map { Array($0.1.utf8) }
        self.names = names
        self.order = names.indices.sorted { names[$0].count > names[$1].count }
    }

    private let order: [Int]

    /// The value of a printed token, or nil when the token is neither names
    /// of this table nor a number. `libtraceeventQuirk` applies the
    /// `trace-cmd report` behaviour described at `resolvable`.
    func value(of token: UnsafeBufferPointer<UInt8>, libtraceeventQuirk: Bool) -> UInt64? {
        if let number = NumberScanner.parseWhole(token) { return number }
        if libtraceeventQuirk && !resolvable {
            // Such a table prints a value of 0 as its first name and any
            // other as hex: nothing, another name or several were printed
            // by a kernel whose table resolves, so this spec is not the one.
            return names.first.map { token.elementsEqual($0) } == true ? 0 : nil
        }
        if token.isEmpty { return 0 }
        if !isFlags {
            for i in order where names[i].elementsEqual(token) { return values[i] }
            return nil
        }
        var result: UInt64 = 0
        var pos = 0
        while pos < token.count {
            if !delimiter.isEmpty, pos > 0 {
                guard token.matches(delimiter, at: pos) else { return nil }
                pos += delimiter.count
            }
            // libtraceevent prints the leftover bits of a partly known value in hex.
            if token.matches(Array("0x".utf8), at: pos) {
                var end = pos
                while end < token.count, !(delimiter.count > 0 && token.matches(delimiter, at: end)) { end += 1 }
                guard let n = NumberScanner.parseWhole(UnsafeBufferPointer(rebasing: token[pos..<end])) else { return nil }
                result |= n
                pos = end
                continue
            }
            var matched = false
            for i in order where token.matches(names[i], at: pos) {
                let end = pos + names[i].count
                // With a delimiter a name must end at the delimiter or the token's end.
                if !delimiter.isEmpty, end < token.count, !token.matches(delimiter, at: end) { continue }
                result |= values[i]
                pos = end
                matched = true
                break
            }
            if !matched { return nil }
        }
        return result
    }

    /// The generated table called `name`; a missing name is a generator bug,
    /// reported as an empty table rather than a crash.
    static func named(_ name: String) -> FlagTable {
        generated[name] ?? FlagTable(isFlags: true, delimiter: "|", resolvable: true, entries: [])
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether `bytes` occur at `offset`.
    @inline(__always)
    func matches(_ bytes: [UInt8], at offset: Int) -> Bool {
        guard offset >= 0, offset + bytes.count <= count else { return false }
        for i in 0..<bytes.count where self[offset + i] != bytes[i] { return false }
        return true
    }
}
