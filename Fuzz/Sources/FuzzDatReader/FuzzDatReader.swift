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
private let file = MemoryFile(name: "fuzz-dat")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    file.replaceContents(data, size)
    do {
        let reader = try DatReader(path: file.path, openProbe: false)
        var count = 0
        try reader.forEach(ReadOptions()) { _ in count += 1 }
    } catch is TraceError {
        // Expected for damaged input.
    } catch {
        fatalError("reader threw a non-TraceError: \(error)")
    }
    return 0
}
