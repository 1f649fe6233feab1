import FuzzSupport
import TraceIO

/// libFuzzer entry point for the trace.dat reader (libtracecmd and
/// libtraceevent parse the input): any input must either read or throw a
/// TraceError — never crash, hang or grow unbounded.
private let file = MemoryFile(name: "fuzz-dat")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    file.replaceContents(data, size)
    do {
        let reader = try DatReader(path: file.path)
        var count = 0
        try reader.forEach(ReadOptions()) { _ in count += 1 }
    } catch let error as TraceError {
        // Expected for damaged input — but a probe that could not fork means
        // this run no longer tests the reader: stop it loudly.
        if "\(error)".contains("cannot check it before opening") { fatalError("\(error)") }
    } catch {
        fatalError("reader threw a non-TraceError: \(error)")
    }
    return 0
}
