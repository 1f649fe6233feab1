import Glibc

/// How a trace.dat's recorded timestamps become the ones its records carry:
/// libtracecmd's `timestamp_calc` (trace-input.c, trace-cmd 3.1.6) for a
/// file opened without flags — a TSC-to-nanoseconds conversion
/// (`TRACECMD_OPTION_TSC2NSEC`: mult, shift), then the sum of the file's time
/// offsets (`TRACECMD_OPTION_DATE` in microseconds, `TRACECMD_OPTION_OFFSET`
/// in nanoseconds), all in wrapping 64-bit arithmetic as in C.
///
/// A guest trace whose timestamps are corrected by the host's samples
/// (`TRACECMD_OPTION_TIME_SHIFT`) is not converted here: `hostSync` says so,
/// and readers leave such a file to libtracecmd.
struct DatClock: Sendable, Equatable {
    /// libtracecmd's `ts_offset`.
    var offset: Int64 = 0
    /// `tsc_calc.mult` and `.shift` (C ints); mult 0: no conversion.
    var tscMult: Int32 = 0
    var tscShift: Int32 = 0
    /// The file has a TIME_SHIFT option libtracecmd would apply.
    var hostSync = false

    /// Whether `apply` converts exactly as libtracecmd does: no host sync,
    /// and a shift libtracecmd's `mul_u64_u32_shr` computes without an
    /// undefined shift in C.
    var isSupported: Bool { !hostSync && (tscMult == 0 || (0...32).contains(tscShift)) }

    /// The record timestamp of raw ring-buffer time `raw`.
    @inline(__always)
    func apply(_ raw: UInt64) -> UInt64 {
        var ts = raw
        if tscMult != 0 { ts = Self.mulShift(ts, UInt64(bitPattern: Int64(tscMult)), UInt32(bitPattern: tscShift)) }
        return ts &+ UInt64(bitPattern: offset)
    }

    /// The kernel's `mul_u64_u32_shr` as libtracecmd copies it: `mul` is the
    /// sign-extended C int, the high half shifted left by `32 - shift`.
    static func mulShift(_ a: UInt64, _ mul: UInt64, _ shift: UInt32) -> UInt64 {
        let low = a & 0xffff_ffff
        let high = a >> 32
        var result = (low &* mul) >> UInt64(shift)
        if high != 0 { result = result &+ ((high &* mul) << UInt64(32 - shift)) }
        return result
    }

    /// Takes in one option as libtracecmd's `handle_options` does (ids from
    /// trace-cmd's `enum tracecmd_option`); other options change nothing.
    mutating func take(option id: UInt64, data: [UInt8], bigEndian: Bool) {
        switch id {
        case 1:  // DATE: "0x…" microseconds, as strtoll reads it
            offset = offset &+ Self.cNumber(data) &* 1000
        case 7:  // OFFSET: nanoseconds
            offset = offset &+ Self.cNumber(data)
        case 12:  // TIME_SHIFT: applied when at least 16 bytes
            if data.count >= 16 { hostSync = true }
        case 14:  // TSC2NSEC: mult (4), shift (4), offset (8, unused by timestamp_calc)
            guard data.count >= 16 else { return }
            tscMult = Int32(bitPattern: UInt32(truncatingIfNeeded: DatByteSource.number(data[0..<4], bigEndian: bigEndian)))
            tscShift = Int32(bitPattern: UInt32(truncatingIfNeeded: DatByteSource.number(data[4..<8], bigEndian: bigEndian)))
        default:
            return
        }
    }

    /// `strtoll(buf, NULL, 0)` of an option's text (`DatOptionCheck` has
    /// made sure it is NUL-terminated; without a NUL it reads as 0).
    private static func cNumber(_ data: [UInt8]) -> Int64 {
        guard data.contains(0) else { return 0 }
        return data.withUnsafeBytes { raw in
            Int64(strtoll(raw.baseAddress!.assumingMemoryBound(to: CChar.self), nil, 0))
        }
    }
}
