import Foundation
import Testing
@testable import TraceIO

/// A text trace against its trace.dat twin (the same ring buffer): per CPU the
/// same events (text timestamps are the nanoseconds rounded to `rounding`)
/// with the same values for every field the text prints.
enum TextDatComparison {
    /// `minimumFields`: how many field values must have been compared at least
    /// (a file whose text matched no spec compares none).
    /// `signednessFree`: a number compares by value whatever its signedness.
    /// Text does not say which kernel printed it: where kernels print an
    /// event alike but type a field differently (5.10's workqueue `cpu` is
    /// unsigned, 6.18's signed), the reader types it as the newest kernel does.
    static func compare(text: String, dat: String, rounding: UInt64, minimumFields: Int = 1001,
                        signednessFree: Bool = false) throws {
        let textEvents = TextSamples.perCPU(try TextSamples.events(text))
        var datEvents: [TraceEvent] = []
        try DatReader(path: dat).forEach(ReadOptions()) { if case .event(let e) = $0 { datEvents.append(e) } }
        let datByCPU = TextSamples.perCPU(datEvents)
        #expect(Set(textEvents.keys) == Set(datByCPU.keys))
        var compared = 0
        for (cpu, a) in textEvents {
            let b = datByCPU[cpu] ?? []
            #expect(a.count == b.count, "cpu \(cpu)")
            for (x, y) in zip(a, b) {
                let rounded = rounding == 1 ? y.timestamp : (y.timestamp + rounding / 2) / rounding * rounding
                guard x.timestamp == rounded, x.pid == y.pid, x.name == y.name else {
                    Issue.record("cpu \(cpu): \(x.name)@\(x.timestamp) pid \(x.pid) vs \(y.name)@\(y.timestamp) pid \(y.pid)")
                    break
                }
                for field in x.fields where TextSamples.comparable(x.name, field.name, field.value, y.fields[field.name]) {
                    var expected = y.fields[field.name]
                    // trace_marker appends a newline to `buf`; the text shows it as the line's end.
                    if x.name == "print", field.name == "buf", case .string(let s)? = expected, s.hasSuffix("\n") {
                        expected = .string(String(s.dropLast()))
                    }
                    if signednessFree, let a = field.value.uint64, let b = expected?.uint64, Self.sameBits(a, b) {
                        compared += 1
                        continue
                    }
                    #expect(field.value == expected, "\(x.name).\(field.name): \(x.rawText ?? "")")
                    compared += 1
                }
            }
        }
        #expect(compared >= minimumFields, "\(text): \(compared) field values compared")
    }

    /// Equal numbers, or a 4-byte value one kernel types signed and another
    /// unsigned (5.10's workqueue `cpu` 4294967295 is 6.18's -1).
    static func sameBits(_ a: UInt64, _ b: UInt64) -> Bool {
        func fourBytes(_ v: UInt64) -> Bool { v >> 32 == 0 || v >> 32 == 0xffff_ffff }
        return a == b || (a & 0xffff_ffff == b & 0xffff_ffff && fourBytes(a) && fourBytes(b))
    }
}
