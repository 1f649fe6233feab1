import CTrace
import Foundation
import Synchronization

/// Moves each CPU's ring-buffer pages (`per_cpu/cpuN/trace_pipe_raw`) into a
/// file of its own while the traced command runs, one thread per CPU, so a
/// recording is bounded by the disk and not by the ring buffer.
///
/// Pages are moved with libtracefs' `tracefs_cpu_write` (splice: whole pages,
/// no copy through user space) without blocking; a thread that found nothing
/// sleeps 100 ms. `finish()` then reads what is left, including the page the
/// kernel is still filling (`tracefs_cpu_flush_write`), and pads the file to a
/// whole page so that every page of it is a ring-buffer page.
final class RingBufferStreamer: @unchecked Sendable {
    struct CPUFile {
        var cpu: Int
        var path: String
        var size: Int
    }

    private final class CPUStream: @unchecked Sendable {
        let cpu: Int
        let path: String
        let fd: Int32
        let tcpu: OpaquePointer
        let bytes = Atomic<Int>(0)
        let done = DispatchSemaphore(value: 0)
        var error: Int32 = 0

        init(cpu: Int, path: String, fd: Int32, tcpu: OpaquePointer) {
            self.cpu = cpu
            self.path = path
            self.fd = fd
            self.tcpu = tcpu
        }
    }

    static let pollInterval: Double = 0.1

    let pageSize: Int
    private var streams: [CPUStream] = []
    private let stopping = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private var started = false
    private var joined = false
    private var closed = false

    /// Opens every CPU's raw buffer of `instance` and a file per CPU named
    /// `<filePrefix>.cpuN` (next to the output, so the final copy stays on one file system).
    init(instance: TracefsInstance, cpus: Int, filePrefix: String) throws {
        var pageSize = 0
        var opened: [CPUStream] = []
        func closeOpened() {
            for s in opened { tracefs_cpu_close(s.tcpu); close(s.fd); unlink(s.path) }
        }
        for cpu in 0..<cpus {
            guard let tcpu = tracefs_cpu_open(instance.pointer, Int32(cpu), true) else {
                // An offline CPU has no buffer to read; it records nothing.
                continue
            }
            let path = "\(filePrefix).cpu\(cpu)"
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                let reason = String(cString: strerror(errno))
                tracefs_cpu_close(tcpu)
                closeOpened()
                throw RecordError.output(path: path, reason: reason)
            }
            pageSize = max(pageSize, Int(tracefs_cpu_read_size(tcpu)))
            opened.append(CPUStream(cpu: cpu, path: path, fd: fd, tcpu: tcpu))
        }
        guard !opened.isEmpty else {
            throw RecordError.tracefs(operation: "open per_cpu/cpuN/trace_pipe_raw", reason: String(cString: strerror(errno)))
        }
        self.pageSize = pageSize > 0 ? pageSize : Int(getpagesize())
        self.streams = opened
    }

    deinit { closeAll(removeFiles: false) }

    /// Bytes moved to the per-CPU files so far.
    var bytesWritten: Int { streams.reduce(0) { $0 + $1.bytes.load(ordering: .relaxed) } }

    var cpus: [Int] { streams.map(\.cpu) }

    func start() {
        guard !started else { return }
        started = true
        for stream in streams {
            let thread = Thread { [self] in self.pump(stream) }
            thread.name = "wbreplay-cpu\(stream.cpu)"
            thread.start()
        }
    }

    private func pump(_ stream: CPUStream) {
        while !stopping.load(ordering: .acquiring) {
            var moved = false
            while true {
                let n = tracefs_cpu_write(stream.tcpu, stream.fd, true)
                if n > 0 {
                    stream.bytes.add(Int(n), ordering: .relaxed)
                    moved = true
                    if stopping.load(ordering: .relaxed) { break }
                } else {
                    if n < 0, errno != EAGAIN, errno != EINTR { stream.error = errno }
                    break
                }
            }
            if !moved { _ = wake.wait(timeout: .now() + Self.pollInterval) }
        }
        stream.done.signal()
    }

    /// Stops the threads, drains what the buffers still hold and returns the
    /// per-CPU files. Call after tracing is off in the instance, so that
    /// nothing more arrives.
    func finish() throws -> [CPUFile] {
        joinThreads()
        var files: [CPUFile] = []
        for stream in streams {
            while true {
                let n = tracefs_cpu_flush_write(stream.tcpu, stream.fd)
                if n <= 0 { break }
                stream.bytes.add(Int(n), ordering: .relaxed)
            }
            var size = stream.bytes.load(ordering: .relaxed)
            let tail = size % pageSize
            if tail != 0 {
                let zeros = [UInt8](repeating: 0, count: pageSize - tail)
                guard writeAll(stream.fd, zeros) else {
                    throw RecordError.output(path: stream.path, reason: String(cString: strerror(errno)))
                }
                size += pageSize - tail
            }
            if stream.error != 0 {
                throw RecordError.tracefs(operation: "read cpu\(stream.cpu) ring buffer", reason: String(cString: strerror(stream.error)))
            }
            files.append(CPUFile(cpu: stream.cpu, path: stream.path, size: size))
        }
        closeAll(removeFiles: false)
        return files
    }

    private func joinThreads() {
        stopping.store(true, ordering: .releasing)
        guard started, !joined else { return }
        joined = true
        for _ in streams { wake.signal() }
        for stream in streams { stream.done.wait() }
    }

    /// Closes the raw buffers (the instance cannot be deleted while they are
    /// open) and the files; optionally deletes the files.
    func closeAll(removeFiles: Bool) {
        guard !closed else {
            if removeFiles { for s in streams { unlink(s.path) } }
            return
        }
        closed = true
        joinThreads()
        for stream in streams {
            tracefs_cpu_close(stream.tcpu)
            close(stream.fd)
            if removeFiles { unlink(stream.path) }
        }
    }
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }
}
