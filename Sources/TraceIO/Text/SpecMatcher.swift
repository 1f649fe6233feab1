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

        var end = body.count
        while end > 0, body[end - 1] == 0x20 || body[end - 1] == 0x09 || body[end - 1] == 0x0D { end -= 1 }
        let text = UnsafeBufferPointer(rebasing: body[0..<end])
        let ops = spec.ops
        var pos = 0
        var k = 0
        scan: while k < ops.count {
            if pos >= text.count, SpecMatcher.restIsOptional(ops, from: k) {
                emptyTail(ops, from: k, at: pos, wanted: wanted)
                break scan
            }
            switch ops[k] {
            case .literal(let lit):
                if text.matches(lit, at: pos) {
                    pos += lit.count
                } else if SpecMatcher.endsWithin(lit, text, pos), SpecMatcher.restIsOptional(ops, from: k + 1) {
                    // `… flags ` with empty flags at the end of the line,
                    // whose trailing space was trimmed.
                    pos = text.count
                    emptyTail(ops, from: k + 1, at: pos, wanted: wanted)
                    break scan
                } else {
                    return nil
                }
            case .value(let field, let shift, let conversion):
                let take = field >= 0 && (wanted == nil || wanted![field])
                guard let next = consume(text, pos, ops, k, field: take ? field : -1,
                                         shift: shift, conversion)
                else { return nil }
                pos = next
            }
            k += 1
        }
        guard pos >= text.count else { return nil }
        return build(text, spec)
    }

    /// Values that printed as nothing at the end of the line: flags and
    /// symbols print nothing for 0, strings are empty.
    private mutating func emptyTail(_ ops: [SpecOp], from k: Int, at pos: Int, wanted: [Bool]?) {
        for op in ops[k...] {
            guard case .value(let field, _, let conversion) = op, field >= 0,
                  wanted == nil || wanted![field]
            else { continue }
            switch conversion {
            case .flags, .symbolic: assigned[field] = true
            case .string, .symbol: ranges[field] = pos..<pos; assigned[field] = true
            default: break
            }
        }
    }

    /// Reads one value at `pos`; returns the index after it.
    private mutating func consume(
        _ text: UnsafeBufferPointer<UInt8>, _ pos: Int, _ ops: [SpecOp], _ k: Int,
        field: Int, shift: Int, _ conversion: Conversion
    ) -> Int? {
        func store(_ value: UInt64) {
            guard field >= 0 else { return }
            let placed = shift >= 0 ? value &<< UInt64(shift) : value &>> UInt64(-shift)
            bits[field] |= placed
            assigned[field] = true
        }
        switch conversion {
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
            guard let end = stringEnd(text, pos, ops, k) else { return nil }
            if field >= 0 { ranges[field] = pos..<end; assigned[field] = true }
            return end
        case .symbol:
            var end = pos
            let stop = SpecMatcher.firstByte(ops, after: k)
            while end < text.count, text[end] != 0x20, stop == nil || stop == 0x20 || text[end] != stop! {
                end += 1
            }
            if field >= 0 {
                // %pS prints `func+0x1a/0x40` in tracefs, `func+0x1a` in trace-cmd:
                // the symbol and offset identify the call site, the size does not.
                var symbolEnd = pos
                while symbolEnd < end, text[symbolEnd] != UInt8(ascii: "/") { symbolEnd += 1 }
                ranges[field] = pos..<symbolEnd
                assigned[field] = true
            }
            return end
        case .flags(let table), .symbolic(let table):
            var end = pos
            while end < text.count, SpecMatcher.isFlagByte(text[end]) { end += 1 }
            if field >= 0,
               let v = table.value(of: UnsafeBufferPointer(rebasing: text[pos..<end]),
                                   libtraceeventQuirk: libtraceeventQuirks) {
                store(v)
            }
            return end
        }
    }

    /// Where a `%s` value ends: at the next literal (its last occurrence when
    /// it is the pattern's final literal, so that values may contain it).
    private func stringEnd(_ text: UnsafeBufferPointer<UInt8>, _ pos: Int, _ ops: [SpecOp], _ k: Int) -> Int? {
        guard k + 1 < ops.count, case .literal(let lit) = ops[k + 1], !lit.isEmpty else { return text.count }
        let isLast = k + 1 == ops.count - 1
        if isLast {
            let candidate = text.count - lit.count
            return candidate >= pos && text.matches(lit, at: candidate) ? candidate : nil
        }
        var i = pos
        while i + lit.count <= text.count {
            if text[i] == lit[0], text.matches(lit, at: i) { return i }
            i += 1
        }
        return SpecMatcher.restIsOptional(ops, from: k + 1) ? text.count : nil
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
    static func isFlagByte(_ b: UInt8) -> Bool {
        NumberScanner.isDigit(b) || (b | 0x20) &- 0x61 < 26 || b == UInt8(ascii: "_") || b == UInt8(ascii: "|")
    }

    /// Values that may print as nothing (strings, flags) and whitespace:
    /// what may be missing once the text has been consumed.
    static func restIsOptional(_ ops: [SpecOp], from k: Int) -> Bool {
        for op in ops[k...] {
            switch op {
            case .literal(let lit): if lit.contains(where: { $0 != 0x20 }) { return false }
            case .value(_, _, let conversion):
                switch conversion {
                case .string, .flags, .symbolic, .symbol: continue
                default: return false
                }
            }
        }
        return true
    }

    /// Whether the text from `pos` to its end is `lit` without its trailing spaces.
    static func endsWithin(_ lit: [UInt8], _ text: UnsafeBufferPointer<UInt8>, _ pos: Int) -> Bool {
        let rest = text.count - pos
        guard rest >= 0, rest < lit.count else { return false }
        for i in 0..<lit.count {
            if i < rest { if text[pos + i] != lit[i] { return false } } else if lit[i] != 0x20 { return false }
        }
        return true
    }

    static func firstByte(_ ops: [SpecOp], after k: Int) -> UInt8? {
        guard k + 1 < ops.count, case .literal(let lit) = ops[k + 1] else { return nil }
        return lit.first
    }
}
