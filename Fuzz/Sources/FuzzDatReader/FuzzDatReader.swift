import FuzzSupport
@_spi(Fuzzing) import TraceIO

/// libFuzzer entry point for the trace.dat reader (libtracecmd and
/// libtraceevent parse the input): any input must either read or throw a
/// TraceError — never crash, hang or grow unbounded.
///
/// The reader runs every check it runs for users (header, v6/v7 layout,
/// compressed chunks, header_page, event formats, ring-buffer pages), then
/// libtracecmd opens and reads the input in this process: the fork of
/// `DatOpenProbe` is skipped (`openProbe: false`). The probe would turn a
/// libtracecmd crash into a refusal and hide it, and its fork per input caps a
/// sanitizer build at tens of inputs per second. A crash here is a file the
/// checks let through: make a check refuse that damage, and keep the input as
/// a regression test (Tests/Fixtures/fuzz, FuzzRegressionTests).
///
/// Every input that opens is read twice, from the ring-buffer pages directly
/// (`DatPageReading`) and through libtracecmd's iterator: the two must give
/// the same records and damaged count, or the input is reported as a crash.
private let file = MemoryFile(name: "fuzz-dat")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    file.replaceContents(data, size)
    do {
        let reader = try DatReader(path: file.path, openProbe: false)
        let pages = try digest(reader)
        reader.recordPath = .libtracecmd
        let iterator = try digest(reader)
        if pages != iterator {
            fatalError("the page reading and libtracecmd disagree: \(pages.records) records (\(pages.damaged) damaged) vs \(iterator.records) (\(iterator.damaged))")
        }
    } catch is TraceError {
        // Expected for damaged input.
    } catch {
        fatalError("reader threw a non-TraceError: \(error)")
    }
    return 0
}

/// What one pass read: its records (each event with all its fields, each
/// loss) hashed in order, and the damaged records it skipped.
private func digest(_ reader: DatReader) throws -> (records: Int, hash: Int, damaged: Int) {
    var hasher = Hasher()
    var count = 0
    try reader.forEach(ReadOptions()) { record in
        count += 1
        switch record {
        case .event(let e):
            hasher.combine(e.timestamp)
            hasher.combine(e.cpu)
            hasher.combine(e.pid)
            hasher.combine(e.name)
            hasher.combine(e.comm)
            hasher.combine(e.fields)
        case .lost(let lost):
            hasher.combine(lost)
        }
    }
    return (count, hasher.finalize(), reader.damagedEvents)
}
