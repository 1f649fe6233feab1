import Glibc

/// Checks that every CPU data block a trace.dat v6 file announces lies inside
/// the file, before libtracecmd sees it.
///
/// Why: libtracecmd 3.1.x notices a v6 buffer instance whose data runs past the
/// end of the file, prints "File possibly truncated" on stdout and then crashes
/// (SIGSEGV) while freeing the half-built instance handle. v7 files are
/// checked by `tracecmd_open` itself. The walk follows trace-cmd.dat.v6(5):
/// header_page, header_event, ftrace and event formats, kallsyms, printk,
/// cmdlines, CPU count, options (BUFFER options give each instance's offset),
/// then "flyrecord" and one (offset, size) pair per CPU.
///
/// On the way it checks the header_page and the event formats
/// (`DatFormatSections`) and every ring-buffer page of every CPU block
/// (`DatRingBufferPage`), which libtracecmd and libtraceevent trust.
struct DatV6Truncation {
    private let fd: Int32
    private let fileSize: UInt64
    private var offset: UInt64 = 0
    private var bigEndian = false
    private var pageSize: UInt64 = 0
    private var pages = DatHeaderPage(commitSize: 8)

    /// What the walk found of the CPU data: every buffer's CPU blocks and the
    /// options that convert timestamps.
    private var streams = DatStreamLayout(bigEndian: false, commitSize: 8, compression: "none", clock: DatClock(), buffers: [:])

    /// Throws `TraceError.corrupt` naming the first CPU block that is cut off,
    /// or the header section the file ends in; returns where every CPU's
    /// pages are.
    @discardableResult
    static func check(path: String) throws -> DatStreamLayout {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        var walker = DatV6Truncation(fd: fd, fileSize: UInt64(st.st_size))
        do {
            try walker.walk()
            return walker.streams
        } catch let failure as Failure {
            throw TraceError.corrupt(path: path, reason: failure.reason)
        } catch let damage as DatDamage {
            throw TraceError.corrupt(path: path, reason: "damaged: \(damage.reason)")
        }
    }

    private struct Failure: Error { let reason: String }

    private init(fd: Int32, fileSize: UInt64) {
        self.fd = fd
        self.fileSize = fileSize
    }

    private mutating func walk() throws {
        try skip(10)  // magic (3 bytes) + "tracing"
        _ = try string()  // version
        bigEndian = try bytes(1)[0] != 0
        try skip(1)  // long size
        pageSize = try number(4)
        guard pageSize >= 64, pageSize <= 64 << 20, pageSize & (pageSize - 1) == 0 else {
            throw Failure(reason: "damaged: a page size of \(pageSize) bytes")
        }
        let source = DatByteSource(fd: fd, fileSize: fileSize, base: 0, bigEndian: bigEndian)
        (pages, offset) = try DatFormatSections.headerPage(source, at: offset)
        try skip(13)  // "header_event\0"
        try skip(number(8))
        // Formats as far as they are whole: libtracecmd parses those, then
        // fails where the list is cut off (and so does `skip` below).
        _ = try DatFormatSections.checkFtrace(source, at: offset)
        for _ in 0..<(try number(4)) { try skip(number(8)) }  // ftrace formats
        _ = try DatFormatSections.checkEvents(source, at: offset)
        for _ in 0..<(try number(4)) {  // event systems
            _ = try string()
            for _ in 0..<(try number(4)) { try skip(number(8)) }
        }
        try DatFormatSections.checkSizedText(source, at: offset, width: 4, what: "kallsyms")
        try skip(number(4))  // kallsyms
        try DatFormatSections.checkPrintk(source, at: offset)
        try skip(number(4))  // printk formats
        try DatFormatSections.checkSizedText(source, at: offset, width: 8, what: "command lines")
        try skip(number(8))  // saved cmdlines
        let topCPUs = try number(4)
        var instances: [(name: String, offset: UInt64)] = []
        streams.bigEndian = bigEndian
        streams.commitSize = pages.commitSize
        var clock = DatClock()
        let cpus = try dataHeader(cpus: topCPUs, instances: &instances, clock: &clock)
        streams.clock = clock
        streams.buffers[""] = try checkCPUBlocks(cpus: cpus, buffer: "top level")
        for instance in instances {
            offset = instance.offset
            var ignored: [(name: String, offset: UInt64)] = []
            // libtracecmd's instance handle is a copy of the top level's
            // (its CPU count and time offsets, not its host sync), then reads
            // its own options.
            var instanceClock = clock
            instanceClock.hostSync = false
            let instanceCPUs = try dataHeader(cpus: cpus ?? topCPUs, instances: &ignored, clock: &instanceClock)
            streams.instanceClocks[instance.name] = instanceClock
            streams.buffers[instance.name] = try checkCPUBlocks(
                cpus: instanceCPUs, buffer: "buffer instance \"\(instance.name)\"")
        }
    }

    /// Reads "options" (collecting BUFFER options) up to "flyrecord"; returns
    /// the CPU count in effect, or nil for a latency trace (no CPU blocks).
    private mutating func dataHeader(
        cpus: UInt64, instances: inout [(name: String, offset: UInt64)], clock: inout DatClock
    ) throws -> UInt64? {
        var cpus = cpus
        var kind = try bytes(10)
        if kind.starts(with: Array("options".utf8)) {
            while true {
                let id = try number(2)
                if id == 0 { break }  // TRACECMD_OPTION_DONE
                let size = try number(4)
                let start = offset
                guard size <= 1 << 20 else { throw Failure(reason: "damaged: option \(id) claims \(size) bytes") }
                let data = try bytes(Int(size))
                offset = start
                try DatOptionCheck.check(id: id, data: data, bigEndian: bigEndian, sectioned: false)
                clock.take(option: id, data: data, bigEndian: bigEndian)
                if id == 3, size >= 9 {  // TRACECMD_OPTION_BUFFER: offset, name
                    let bufferOffset = try number(8)
                    instances.append((try string(), bufferOffset))
                } else if id == 8, size >= 4 {  // TRACECMD_OPTION_CPUCOUNT
                    cpus = try number(4)
                }
                offset = start
                try skip(size)
            }
            kind = try bytes(10)
        }
        if kind.starts(with: Array("latency".utf8)) { return nil }
        guard kind.starts(with: Array("flyrecord".utf8)) else {
            throw Failure(reason: "no CPU data section where the v6 header says it is")
        }
        return cpus
    }

    /// Checks the CPU blocks of one buffer; returns them as libtracecmd's
    /// `read_cpu_data` indexes them (nil: a latency trace, no blocks).
    private mutating func checkCPUBlocks(cpus: UInt64?, buffer: String) throws -> DatStreamLayout.Buffer? {
        guard let cpus else { return nil }
        var blocks: [DatStreamLayout.Stream?] = []
        for cpu in 0..<cpus {
            let start = try number(8)
            let size = try number(8)
            let (end, overflow) = start.addingReportingOverflow(size)
            if size > 0, overflow || end > fileSize {
                throw Failure(reason: "truncated: CPU \(cpu) data of the \(buffer) needs \(overflow ? UInt64.max : end) bytes, the file has \(fileSize)")
            }
            blocks.append(size > 0 ? .init(storage: .plain(offset: start), size: size, pageSize: Int(pageSize)) : nil)
            guard size > 0 else { continue }
            guard start % pageSize == 0 else {
                throw Failure(reason: "damaged: the data of CPU \(cpu) of the \(buffer) does not start on a page boundary (byte \(start))")
            }
            do {
                try DatRingBufferPage.checkStream(
                    fd: fd, fileSize: fileSize, offset: start, size: size, pageSize: Int(pageSize),
                    layout: pages, bigEndian: bigEndian)
            } catch {
                throw Failure(reason: "damaged: CPU \(cpu) of the \(buffer): \(error.reason)")
            }
        }
        return DatStreamLayout.Buffer(streams: blocks)
    }

    // MARK: - Reading

    private mutating func skip(_ count: UInt64) throws {
        let (next, overflow) = offset.addingReportingOverflow(count)
        guard !overflow, next <= fileSize else {
            throw Failure(reason: "truncated or damaged: the v6 headers run past the end of the file (\(fileSize) bytes)")
        }
        offset = next
    }

    private mutating func bytes(_ count: Int) throws -> [UInt8] {
        let start = offset
        try skip(UInt64(count))
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(start)) }
        guard n == count else { throw Failure(reason: "cannot read the v6 header at byte \(start)") }
        return buffer
    }

    private mutating func number(_ width: Int) throws -> UInt64 {
        DatByteSource.number(try bytes(width), bigEndian: bigEndian)
    }

    /// A NUL-terminated string (names are short: at most 4 KiB are read).
    private mutating func string() throws -> String {
        var result: [UInt8] = []
        while result.count < 4096 {
            let byte = try bytes(1)[0]
            if byte == 0 { return String(decoding: result, as: UTF8.self) }
            result.append(byte)
        }
        throw Failure(reason: "unterminated name in the v6 header at byte \(offset)")
    }
}
