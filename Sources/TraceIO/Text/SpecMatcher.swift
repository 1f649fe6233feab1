import Glibc

/// Matches the printed fields of one event against its `EventSpec`, byte by
/// byte, and rebuilds the typed field values. One generic matcher serves
/// every event; per-event knowledge lives in the generated specs.
struct SpecMatcher {
    /// Scratch space reused across lines, so that matching allocates nothing.
    private var bits: [UInt64] = []
    private var assigned: [Bool] = []
    private var ranges: [Range<Int>] = []

    /// `trace-cmd report` prints unresolvable flag tables its own way (see `FlagTable.resolvable`).
    var libtraceeventQuirks = false
    /// Whether the last match left out a flags or symbolic value its table
    /// has no name for (another kernel's table: 7.x prints no PRE_IO).
    private(set) var lastMatchMissedNames = false

    /// Returns the fields of `body` (the text after `NAME: `), or nil when the
    /// text does not have the spec's shape (another kernel's format, a
    /// damaged line). `wanted` selects fields by index; nil takes all.
    mutating func match(_ body: UnsafeBufferPointer<UInt8>, _ spec: EventSpec, wanted: [Bool]?) -> EventFields? {
        let n = spec.fieldNames.count
        if bits.count < n {
            bits = Array(repeating: 0, count: n)
            assigned = Array(repeating: false, count: n)
            ranges = Array(repeating: 0..<0, count: n)
        }
        for i in 0..<n { bits[i] = 0; assigned[i] = false }
        lastMatchMissedNames = false

        var end = body.count
        while end > 0, body[end - 1] == 0x20 || body[end - 1] == 0x09 || body[end - 1] == 0x0D { end -= 1 }
        let text = UnsafeBufferPointer(rebasing: body[0..<end])
        let matched = spec.ops.withUnsafeBufferPointer { ops in
            spec.literalBytes.withUnsafeBufferPointer { literals in
                run(text, ops, literals, spec.tables, wanted)
            }
        }
        return matched ? build(text, spec) : nil
    }

    private mutating func run(
        _ text: UnsafeBufferPointer<UInt8>, _ ops: UnsafeBufferPointer<SpecOp>,
        _ literals: UnsafeBufferPointer<UInt8>, _ tables: [FlagTable], _ wanted: [Bool]?
    ) -> Bool {
        var pos = 0
        var k = 0
        while k < ops.count {
            if pos >= text.count, SpecMatcher.restIsOptional(ops, from: k, literals) {
                emptyTail(ops, from: k, at: pos, wanted: wanted)
                return true
            }
            let op = ops[k]
            if op.isLiteral {
                if SpecMatcher.matches(text, pos, literals, op.literalStart, op.literalCount) {
                    pos += op.literalCount
                } else if SpecMatcher.endsWithin(op, literals, text, pos),
                          SpecMatcher.restIsOptional(ops, from: k + 1, literals) {
                    // `… flags ` with empty flags at the end of the line,
                    // whose trailing space was trimmed.
                    emptyTail(ops, from: k + 1, at: text.count, wanted: wanted)
                    return true
                } else {
                    return false
                }
            } else {
                let take = op.field >= 0 && (wanted == nil || wanted![op.field])
                guard let next = consume(text, pos, ops, k, literals, take ? op.field : -1, op,
                                         op.table >= 0 ? tables[op.table] : nil)
                else { return false }
                pos = next
            }
            k += 1
        }
        return pos >= text.count
    }

    /// Values that printed as nothing at the end of the line: flags and
    /// symbols print nothing for 0, strings are empty.
    private mutating func emptyTail(_ ops: UnsafeBufferPointer<SpecOp>, from k: Int, at pos: Int, wanted: [Bool]?) {
        for op in ops[k...] where !op.isLiteral && op.field >= 0 && (wanted == nil || wanted![op.field]) {
            switch op.conversion {
            case .flags, .symbolic: assigned[op.field] = true
            case .string, .symbol: ranges[op.field] = pos..<pos; assigned[op.field] = true
            default: break
            }
        }
    }

    /// Reads one value at `pos`; returns the index after it.
    @inline(__always)
    private mutating func consume(
        _ text: UnsafeBufferPointer<UInt8>, _ pos: Int, _ ops: UnsafeBufferPointer<SpecOp>, _ k: Int,
        _ literals: UnsafeBufferPointer<UInt8>, _ field: Int, _ op: SpecOp, _ table: FlagTable?
    ) -> Int? {
        func store(_ value: UInt64) {
            guard field >= 0 else { return }
            let placed = op.shift >= 0 ? value &<< UInt64(op.shift) : value &>> UInt64(-op.shift)
            bits[field] |= placed
            assigned[field] = true
        }
        switch op.conversion {
        case .signedDecimal, .unsignedDecimal:
            guard let (v, next) = NumberScanner.scan(text, pos, radix: 10) else { return nil }
            store(v)
            return next
        case .hex, .pointer:
            guard let (v, next) = NumberScanner.scan(text, pos, radix: 16) else { return nil }
            store(v)
            return next
        case .octal:
            guard let (v, next) = NumberScanner.scan(text, pos, radix: 8) else { return nil }
            store(v)
            return next
        case .character:
            guard pos < text.count else { return nil }
            store(UInt64(text[pos]))
            return pos + 1
        case .string:
            guard let end = stringEnd(text, pos, ops, k, literals) else { return nil }
            if field >= 0 { ranges[field] = pos..<end; assigned[field] = true }
            return end
        case .symbol:
            var end = pos
            var stop: UInt8 = 0x20
            if k + 1 < ops.count, ops[k + 1].isLiteral { stop = literals[ops[k + 1].literalStart] }
            while end < text.count, text[end] != 0x20, text[end] != stop { end += 1 }
            if field >= 0 {
                // %pS prints `func+0x1a/0x40` in tracefs, `func+0x1a` in trace-cmd:
                // the symbol and offset identify the call site, the size does not.
                var symbolEnd = pos
                while symbolEnd < end, text[symbolEnd] != UInt8(ascii: "/") { symbolEnd += 1 }
                ranges[field] = pos..<symbolEnd
                assigned[field] = true
            }
            return end
        case .flags, .symbolic:
            var end = pos
            while end < text.count, SpecMatcher.isFlagByte(text[end]) { end += 1 }
            if field >= 0, let table {
                if let v = table.value(of: UnsafeBufferPointer(rebasing: text[pos..<end]),
                                       libtraceeventQuirk: libtraceeventQuirks) {
                    store(v)
                } else {
                    lastMatchMissedNames = true
                }
            }
            return end
        }
    }

    /// Where a `%s` value ends: at the next literal (its last occurrence when
    /// it is the pattern's final literal, so that values may contain it).
    private func stringEnd(
        _ text: UnsafeBufferPointer<UInt8>, _ pos: Int, _ ops: UnsafeBufferPointer<SpecOp>, _ k: Int,
        _ literals: UnsafeBufferPointer<UInt8>
    ) -> Int? {
        guard k + 1 < ops.count, ops[k + 1].isLiteral else { return text.count }
        let lit = ops[k + 1]
        let count = lit.literalCount
        if k + 1 == ops.count - 1 {
            let candidate = text.count - count
            return candidate >= pos && SpecMatcher.matches(text, candidate, literals, lit.literalStart, count)
                ? candidate : nil
        }
        let first = literals[lit.literalStart]
        var i = pos
        while i + count <= text.count {
            if text[i] == first, SpecMatcher.matches(text, i, literals, lit.literalStart, count) { return i }
            i += 1
        }
        return SpecMatcher.restIsOptional(ops, from: k + 1, literals) ? text.count : nil
    }

    private func build(_ text: UnsafeBufferPointer<UInt8>, _ spec: EventSpec) -> EventFields {
        var fields: [EventField] = []
        fields.reserveCapacity(spec.fieldNames.count)
        for i in 0..<spec.fieldNames.count where assigned[i] {
            let value: FieldValue
            switch spec.fieldKinds[i] {
            case .unsigned(let bytes):
                value = .unsigned(bytes >= 8 ? bits[i] : bits[i] & ((1 << UInt64(bytes * 8)) - 1))
            case .signed(let bytes):
                let unused = UInt64(64 - bytes * 8)
                value = .signed(Int64(bitPattern: bits[i] &<< unused) &>> Int64(unused))
            case .device:
                value = .device(DeviceNumber(kernelEncoded: bits[i]))
            case .string, .symbol:
                value = .string(String(decoding: UnsafeBufferPointer(rebasing: text[ranges[i]]), as: UTF8.self))
            case .unsupported:
                continue
            }
            fields.append(EventField(spec.fieldNames[i], value))
        }
        return EventFields(fields)
    }

    @inline(__always)
    static func matches(
        _ text: UnsafeBufferPointer<UInt8>, _ pos: Int, _ literals: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int
    ) -> Bool {
        guard pos >= 0, pos + count <= text.count else { return false }
        return memcmp(text.baseAddress! + pos, literals.baseAddress! + start, count) == 0
    }

    @inline(__always)
    static func isFlagByte(_ b: UInt8) -> Bool {
        NumberScanner.isDigit(b) || (b | 0x20) &- 0x61 < 26 || b == UInt8(ascii: "_") || b == UInt8(ascii: "|")
    }

    /// Values that may print as nothing (strings, flags) and whitespace:
    /// what may be missing once the text has been consumed.
    static func restIsOptional(_ ops: UnsafeBufferPointer<SpecOp>, from k: Int, _ literals: UnsafeBufferPointer<UInt8>) -> Bool {
        for op in ops[k...] {
            if op.isLiteral {
                for i in op.literalStart..<op.literalEnd where literals[i] != 0x20 { return false }
            } else {
                switch op.conversion {
                case .string, .flags, .symbolic, .symbol: continue
                default: return false
                }
            }
        }
        return true
    }

    /// Whether the text from `pos` to its end is the literal without its trailing spaces.
    static func endsWithin(
        _ op: SpecOp, _ literals: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>, _ pos: Int
    ) -> Bool {
        let rest = text.count - pos
        guard rest >= 0, rest < op.literalCount else { return false }
        for i in 0..<op.literalCount {
            let l = literals[op.literalStart + i]
            if i < rest { if text[pos + i] != l { return false } } else if l != 0x20 { return false }
        }
        return true
    }
}
