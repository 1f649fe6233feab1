import Dispatch
import Synchronization

/// The part of `DatV7Chunks`' check that only reading needs: the ring-buffer
/// pages past what libtracecmd's open reads — the chunks after each stream's
/// first (decompressed here once, as libtracecmd will as it reads), and every
/// page of an uncompressed stream.
///
/// Why apart: it is most of the check's time (a full decompression of the
/// file), and libtracecmd's open — the probe's in a child, then this
/// process's — is a wait of the same order on one core. `DatHandle` runs this
/// on a second thread meanwhile (`start()`) and collects the verdict
/// (`finish()`) before any record is read: kbuffer trusts every page it loads.
struct DatV7LaterPages: Sendable {
    /// One CPU stream's pages left to check.
    struct Stream: Sendable {
        var cpu: DatV7Chunks.CPUData
        /// "CPU N of the top level", for the errors.
        var `where`: String
        /// The file offset of the first chunk left (of the stream, uncompressed).
        var resumeAt: UInt64
        /// The number of that chunk's first page within the stream.
        var firstPage: Int
        /// Chunks left; nil: an uncompressed stream.
        var chunks: UInt64?
    }

    let path: String
    let streams: [Stream]
    let layout: DatHeaderPage
    let bigEndian: Bool
    let compression: String

    /// Checks every page left; throws the first damage as `TraceError.corrupt`.
    func check() throws {
        guard !streams.isEmpty else { return }
        try DatV7Chunks.walking(path, bigEndian: bigEndian, compression: compression) { walker in
            for stream in streams { try walker.checkLaterPages(stream, pages: layout) }
        }
    }

    /// `check()` on another thread; `finish()` waits for its verdict.
    func start() -> Running {
        let running = Running()
        DispatchQueue.global().async { [self] in
            let verdict = Result { try check() }
            running.verdict.withLock { $0 = verdict }
            running.done.signal()
        }
        return running
    }

    /// A check under way on another thread.
    final class Running: Sendable {
        fileprivate let done = DispatchSemaphore(value: 0)
        fileprivate let verdict = Mutex<Result<Void, any Error>?>(nil)

        /// Waits for the check; rethrows its error.
        func finish() throws {
            done.wait()
            done.signal()  // a second finish() returns at once
            try verdict.withLock { $0 }!.get()
        }
    }
}
