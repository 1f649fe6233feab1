import CTrace
import Foundation
import Testing
@testable import TraceIO

/// `DatPageWalker` against libtraceevent's kbuffer itself, on generated
/// ring-buffer pages: every record type (data of 1…28 words, long records,
/// padding with and without a time delta, time extends, absolute
/// timestamps), missed-events flags with and without a stored count, 4- and
/// 8-byte commit words, both byte orders, damaged lengths. A page the
/// trace.dat checks refuse (`DatRingBufferPage`: kbuffer would read outside
/// it) is not given to kbuffer; the walker must still stay inside it.
@Suite struct DatPageWalkerTests {
    struct Walked: Equatable, CustomStringConvertible {
        var timestamp: UInt64
        var dataOffset: Int
        var size: Int32
        var recordSize: Int32
        var inPage: Int32
        var missed: Int64
        var description: String { "ts \(timestamp) data@\(dataOffset) size \(size)/\(recordSize) at \(inPage) missed \(missed)" }
    }

    /// What kbuffer makes of `page`, as libtracecmd's `tracecmd_peek_data` reads it.
    static func kbufferWalk(_ page: [UInt8], commitSize: Int, bigEndian: Bool) -> [Walked] {
        let kbuf = kbuffer_alloc(commitSize == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4,
                                 bigEndian ? KBUFFER_ENDIAN_BIG : KBUFFER_ENDIAN_LITTLE)!
        defer { kbuffer_free(kbuf) }
        var copy = page
        return copy.withUnsafeMutableBytes { raw in
            var out: [Walked] = []
            kbuffer_load_subbuffer(kbuf, raw.baseAddress)
            var ts: UInt64 = 0
            while let data = kbuffer_read_event(kbuf, &ts) {
                out.append(Walked(
                    timestamp: ts, dataOffset: UnsafeRawPointer(data) - UnsafeRawPointer(raw.baseAddress!),
                    size: kbuffer_event_size(kbuf), recordSize: kbuffer_curr_size(kbuf),
                    inPage: kbuffer_curr_offset(kbuf), missed: Int64(kbuffer_missed_events(kbuf))))
                kbuffer_next_event(kbuf, nil)
            }
            return out
        }
    }

    static func walkerWalk(_ page: [UInt8], commitSize: Int, bigEndian: Bool, clock: DatClock = DatClock()) -> [Walked] {
        page.withUnsafeBytes { raw in
            var records: [DatPageRecord] = []
            DatPageWalker.walk(page: raw, commitSize: commitSize, bigEndian: bigEndian, clock: clock, into: &records)
            return records.map {
                Walked(timestamp: $0.timestamp, dataOffset: $0.data - raw.baseAddress!, size: $0.size,
                       recordSize: $0.recordSize, inPage: $0.inPage, missed: $0.missed)
            }
        }
    }

    /// One page of random records; `damage` makes lengths and the commit word lie.
    static func randomPage(_ rng: inout SplitMix, pageSize: Int, commitSize: Int, bigEndian: Bool, damage: Bool) -> [UInt8] {
        var page = [UInt8](repeating: 0, count: pageSize)
        func put(_ value: UInt64, _ width: Int, at offset: Int) {
            for i in 0..<width {
                let shift = bigEndian ? (width - 1 - i) * 8 : i * 8
                page[offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(shift))
            }
        }
        func header(_ typeLen: UInt32, _ delta: UInt32) -> UInt64 {
            UInt64(bigEndian ? (typeLen << 27) | (delta & ((1 << 27) - 1)) : (delta << 5) | (typeLen & 31))
        }
        let start = 8 + commitSize
        put(UInt64.random(in: 0...(1 << 62), using: &rng), 8, at: 0)
        var at = 0
        let capacity = pageSize - start
        while at + 16 <= capacity - 32, Int.random(in: 0..<40, using: &rng) != 0 {
            let delta = UInt32.random(in: 0..<(1 << 27), using: &rng) >> UInt32.random(in: 0...27, using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0:  // time extend
                put(header(30, delta), 4, at: start + at)
                put(UInt64(UInt32.random(in: 0...UInt32.max, using: &rng) >> 8), 4, at: start + at + 4)
                at += 8
            case 1:  // absolute timestamp
                put(header(31, delta), 4, at: start + at)
                put(UInt64(UInt32.random(in: 0...UInt32.max, using: &rng)), 4, at: start + at + 4)
                at += 8
            case 2:  // padding (a discarded event keeps its delta)
                let length = Int.random(in: 0...3, using: &rng) * 4
                guard at + 8 + length <= capacity - 16 else { break }
                put(header(29, delta), 4, at: start + at)
                let claimed = damage && Int.random(in: 0..<4, using: &rng) == 0
                    ? UInt64(UInt32.random(in: 0...UInt32.max, using: &rng)) : UInt64(length + 4)
                put(claimed, 4, at: start + at + 4)
                at += 4 + length + 4
            case 3:  // long record: its length word counts itself
                let payload = Int.random(in: 1...30, using: &rng) * 4
                guard at + 8 + payload <= capacity - 16 else { break }
                put(header(0, delta), 4, at: start + at)
                let claimed = damage && Int.random(in: 0..<4, using: &rng) == 0
                    ? UInt64(UInt32.random(in: 0...UInt32.max, using: &rng)) : UInt64(payload + 4 - Int.random(in: 0...3, using: &rng))
                put(claimed, 4, at: start + at + 4)
                for i in 0..<payload { page[start + at + 8 + i] = UInt8.random(in: 0...255, using: &rng) }
                at += 8 + payload
            default:  // data of 1…28 words
                let words = Int.random(in: 1...28, using: &rng)
                guard at + 4 + words * 4 <= capacity - 16 else { break }
                put(header(UInt32(words), delta), 4, at: start + at)
                for i in 0..<(words * 4) { page[start + at + 4 + i] = UInt8.random(in: 0...255, using: &rng) }
                at += 4 + words * 4
            }
        }
        var commit = UInt64(at)
        if damage, Int.random(in: 0..<4, using: &rng) == 0 { commit = UInt64.random(in: 0...UInt64(capacity + 64), using: &rng) }
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: commit |= 1 << 31  // lost, number unknown
        case 1:  // lost, number stored after the events
            commit |= 1 << 31 | 1 << 30
            let stored = Int.random(in: 0..<3, using: &rng) == 0
                ? UInt64.random(in: 0...UInt64.max, using: &rng) : UInt64.random(in: 1...100_000, using: &rng)
            if Int(commit & ((1 << 27) - 1)) + commitSize <= capacity {
                put(commitSize == 8 ? stored : stored & 0xffff_ffff, commitSize, at: start + Int(commit & ((1 << 27) - 1)))
            }
        default: break
        }
        put(commitSize == 8 ? commit : commit & 0xffff_ffff, commitSize, at: 8)
        return page
    }

    @Test(arguments: [(4, false), (8, false), (4, true), (8, true)])
    func agreesWithKbufferOnGeneratedPages(commitSize: Int, bigEndian: Bool) {
        var rng = SplitMix(seed: UInt64(commitSize) &* 1_000_003 &+ (bigEndian ? 7 : 0))
        var compared = 0
        var records = 0
        var refused = 0
        for trial in 0..<3000 {
            let pageSize = trial % 3 == 0 ? 256 : 4096
            let page = Self.randomPage(&rng, pageSize: pageSize, commitSize: commitSize, bigEndian: bigEndian,
                                       damage: trial % 2 == 1)
            let walked = Self.walkerWalk(page, commitSize: commitSize, bigEndian: bigEndian)
            let checkable = page.withUnsafeBytes {
                DatRingBufferPage.damage(in: $0, layout: DatHeaderPage(commitSize: commitSize), bigEndian: bigEndian) == nil
            }
            guard checkable else {
                refused += 1
                continue
            }
            let expected = Self.kbufferWalk(page, commitSize: commitSize, bigEndian: bigEndian)
            compared += 1
            records += expected.count
            if walked != expected {
                Issue.record("page \(trial) (\(pageSize) bytes): walker \(walked.count) records, kbuffer \(expected.count); first difference: \(String(describing: zip(walked, expected).first { $0 != $1 }))")
                return
            }
        }
        #expect(compared > 2000 && records > 50_000 && refused > 0, "compared \(compared) pages, \(records) records, refused \(refused)")
    }

    /// Pages kbuffer cannot walk safely end where it would read outside
    /// them: no record points outside the page, nothing is read past it.
    @Test func refusedPagesStayInside() {
        var rng = SplitMix(seed: 42)
        for trial in 0..<3000 {
            let page = Self.randomPage(&rng, pageSize: 128, commitSize: trial % 2 == 0 ? 8 : 4, bigEndian: false, damage: true)
            var garbage = page
            for i in 8..<garbage.count where Int.random(in: 0..<8, using: &rng) == 0 { garbage[i] = UInt8.random(in: 0...255, using: &rng) }
            for bytes in [page, garbage, Array(garbage.prefix(Int.random(in: 0...20, using: &rng)))] {
                for record in Self.walkerWalk(bytes, commitSize: trial % 2 == 0 ? 8 : 4, bigEndian: false) {
                    #expect(record.dataOffset >= 0 && record.dataOffset <= bytes.count)
                }
            }
        }
    }

    @Test func clockConvertsAsLibtracecmd() {
        // mul_u64_u32_shr: the exact floor(a * mult / 2^shift), modulo 2^64.
        var rng = SplitMix(seed: 7)
        for _ in 0..<10_000 {
            let a = UInt64.random(in: 0...UInt64.max, using: &rng) >> UInt64.random(in: 0...63, using: &rng)
            let mult = UInt32.random(in: 1...UInt32.max, using: &rng) >> UInt32.random(in: 0...31, using: &rng)
            let shift = UInt32.random(in: 0...32, using: &rng)
            let exact = UInt64(truncatingIfNeeded: (UInt128(a) * UInt128(mult)) >> shift)
            #expect(DatClock.mulShift(a, UInt64(mult), shift) == exact)
        }
        var clock = DatClock()
        #expect(clock.apply(123) == 123)
        clock.take(option: 1, data: Array("0x10\0".utf8), bigEndian: false)  // DATE: µs
        clock.take(option: 7, data: Array("-5\0".utf8), bigEndian: false)  // OFFSET: ns
        #expect(clock.offset == 16_000 - 5)
        #expect(clock.apply(1000) == 1000 + 16_000 - 5)
        #expect(clock.apply(0) == UInt64(16_000 - 5))
        var tsc = DatClock()
        tsc.take(option: 14, data: [0x00, 0x00, 0x00, 0x80, 4, 0, 0, 0] + [UInt8](repeating: 0, count: 8), bigEndian: false)
        // The mult is a C int: 0x80000000 is sign-extended, as libtracecmd passes it on.
        #expect(tsc.tscMult == Int32.min && tsc.tscShift == 4 && tsc.isSupported)
        #expect(tsc.apply(3) == DatClock.mulShift(3, UInt64(bitPattern: Int64(Int32.min)), 4))
        var guest = DatClock()
        guest.take(option: 12, data: [UInt8](repeating: 0, count: 16), bigEndian: false)
        #expect(!guest.isSupported)
    }
}
