import FuzzSupport
import TraceIO

/// libFuzzer entry point: any input must either read (events and damaged
/// lines counted) or throw a TraceError — never crash, hang or grow unbounded.
/// The first byte picks which text dialect the reader is asked for, so both the
/// tracefs `trace` layout and `trace-cmd report` output are exercised.
private let file = MemoryFile(name: "fuzz-text")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let format: TraceFormat = data[0] & 1 == 0 ? .ftraceText : .traceCmdReport
    file.replaceContents(data + 1, size - 1)
    do {
        let reader = try TextReader(path: file.path, format: format)
        var count = 0
        try reader.forEach(ReadOptions()) { _ in count += 1 }
        // Auto-detection on the same bytes must not crash either.
        _ = try? TraceFile.open(path: file.path)
    } catch is TraceError {
        // Expected for damaged input.
    } catch {
        fatalError("reader threw a non-TraceError: \(error)")
    }
    return 0
}
