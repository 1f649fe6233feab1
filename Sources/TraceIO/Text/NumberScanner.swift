/// Integer parsing over UTF-8 bytes, without `String`: the text reader's
/// hot loop parses several numbers per line.
enum NumberScanner {
    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt64? {
        if b &- 0x30 < 10 { return UInt64(b &- 0x30) }
        let lower = b | 0x20
        if lower &- 0x61 < 6 { return UInt64(lower &- 0x61 + 10) }
        return nil
    }

    /// Parses a number at `pos`: optional leading spaces (printf widths),
    /// then per `radix`; a `-` makes the two's complement bit pattern, which
    /// is how the kernel stores a negative value. Hex accepts an optional
    /// `0x`. Returns the value and the index after it, nil without digits.
    @inline(__always)
    static func scan(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, radix: Int) -> (UInt64, Int)? {
        var i = start
        while i < p.count, p[i] == 0x20 { i += 1 }
        var negative = false
        if i < p.count, p[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var value: UInt64 = 0
        let digitsStart: Int
        switch radix {
        case 16:
            if i + 1 < p.count, p[i] == 0x30, p[i + 1] | 0x20 == UInt8(ascii: "x"),
               i + 2 < p.count, hexValue(p[i + 2]) != nil {
                i += 2
            }
            digitsStart = i
            while i < p.count, let d = hexValue(p[i]) { value = value &<< 4 | d; i += 1 }
        case 8:
            digitsStart = i
            while i < p.count, p[i] &- 0x30 < 8 { value = value &<< 3 | UInt64(p[i] &- 0x30); i += 1 }
        default:
            digitsStart = i
            while i < p.count, isDigit(p[i]) { value = value &* 10 &+ UInt64(p[i] &- 0x30); i += 1 }
        }
        guard i > digitsStart else { return nil }
        return (negative ? 0 &- value : value, i)
    }

    /// Parses a whole token that is a number the way trace printers write
    /// them: `0x` hex, or decimal with an optional sign. Nil otherwise.
    static func parseWhole(_ token: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard !token.isEmpty else { return nil }
        let hex = token.count > 2 && token[0] == 0x30 && token[1] | 0x20 == UInt8(ascii: "x")
        guard let (value, end) = scan(token, 0, radix: hex ? 16 : 10), end == token.count,
              token[0] != 0x20
        else { return nil }
        return value
    }

    /// Parses a syscall argument as printed by the tracefs text (`3`,
    /// `0x540f`) or by trace-cmd report (`0x00000003`).
    static func parseSyscallValue(_ token: UnsafeBufferPointer<UInt8>) -> UInt64? {
        parseWhole(token)
    }
}
