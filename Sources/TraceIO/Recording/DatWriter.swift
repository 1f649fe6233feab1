import Glibc

/// Writes a trace-cmd trace.dat, file format version 7, uncompressed
/// (`man 5 trace-cmd.dat.v7`).
///
/// Why a writer of the documented format and not libtracecmd's output
/// functions: libtracecmd.so exports `tracecmd_output_*`, but its public
/// header declares only readers; the output API is private, its prototypes
/// and behaviour change between trace-cmd releases, and it wants to drive the
/// recording itself. The file format is documented, versioned and small:
/// metadata sections, option sections and each CPU's raw ring-buffer pages
/// copied verbatim. `trace-cmd report` reading our files is the test.
///
/// Layout written (offsets are absolute, little endian, as on x86-64/arm64):
///   file header → HEADER INFO, FTRACE EVENTS, EVENT FORMATS, KALLSYMS,
///   PRINTK, CMDLINES sections → OPTIONS (pointers to those, clock, uname,
///   version, trace id, CPU count, per-CPU stats) → BUFFER FLYRECORD (page-aligned
///   per-CPU data) → OPTIONS (the BUFFER option describing it) → STRINGS.
struct DatWriter {
    enum SectionID: UInt16 {
        case options = 0
        case bufferFlyrecord = 3
        case strings = 15
        case headerInfo = 16
        case ftraceEvents = 17
        case eventFormats = 18
        case kallsyms = 19
        case printk = 20
        case cmdlines = 21
    }

    enum OptionID: UInt16 {
        case done = 0, cpuStat = 2, buffer = 3, traceClock = 4, uname = 5, cpuCount = 8
        case version = 9, traceID = 11, headerInfo = 16, ftraceEvents = 17
        case eventFormats = 18, kallsyms = 19, printk = 20, cmdlines = 21
    }

    static let sectionHeaderSize = 16

    let contents: DatContents

    /// Writes the file at `path` (through `path.part`, renamed when complete,
    /// so an interrupted write never leaves a half file under the real name).
    func write(to path: String) throws {
        let partial = path + ".part"
        let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RecordError.output(path: path, reason: String(cString: strerror(errno))) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(partial) }
        }
        do {
            try writeBody(fd: fd)
        } catch RecordError.output(_, let reason) {
            throw RecordError.output(path: path, reason: reason)
        }
        guard fsync(fd) == 0 || errno == EINVAL else {
            throw RecordError.output(path: path, reason: String(cString: strerror(errno)))
        }
        guard rename(partial, path) == 0 else {
            throw RecordError.output(path: path, reason: String(cString: strerror(errno)))
        }
        ok = true
    }

    private func writeBody(fd: Int32) throws {
        let c = contents
        var strings = StringTable()
        let out = FileSink(fd: fd)

        // Metadata sections, each built in memory (kallsyms, the largest, is a few MB).
        var headerInfo = LEBuffer()
        headerInfo.cString("header_page"); headerInfo.u64(c.headerPage.count); headerInfo.bytes(c.headerPage)
        headerInfo.cString("header_event"); headerInfo.u64(c.headerEvent.count); headerInfo.bytes(c.headerEvent)
        var ftrace = LEBuffer()
        ftrace.u32(c.ftraceFormats.count)
        for f in c.ftraceFormats { ftrace.u64(f.count); ftrace.bytes(f) }
        var events = LEBuffer()
        events.u32(c.eventSystems.count)
        for system in c.eventSystems {
            events.cString(system.name)
            events.u32(system.formats.count)
            for f in system.formats { events.u64(f.count); events.bytes(f) }
        }
        var kallsyms = LEBuffer(); kallsyms.u32(c.kallsyms.count); kallsyms.bytes(c.kallsyms)
        var printk = LEBuffer(); printk.u32(c.printkFormats.count); printk.bytes(c.printkFormats)
        var cmdlines = LEBuffer(); cmdlines.u64(c.cmdlines.count); cmdlines.bytes(c.cmdlines)

        // File header.
        var header = LEBuffer()
        header.bytes([0x17, 0x08, 0x44]); header.bytes(Array("tracing".utf8)); header.cString("7")
        header.u8(0) // little endian
        header.u8(MemoryLayout<Int>.size) // user-space long
        header.u32(c.pageSize)
        header.cString("none"); header.cString("") // no compression
        let firstOptionsFieldAt = header.count
        header.u64(0) // patched below

        var offset = header.count
        var sectionOffsets: [SectionID: Int] = [:]
        var sections: [(SectionID, String, LEBuffer)] = [
            (.headerInfo, "headers", headerInfo), (.ftraceEvents, "ftrace events", ftrace),
            (.eventFormats, "events format", events), (.kallsyms, "kallsyms", kallsyms),
            (.printk, "printk", printk), (.cmdlines, "command lines", cmdlines),
        ]
        for (id, _, body) in sections {
            sectionOffsets[id] = offset
            offset += Self.sectionHeaderSize + body.count
        }

        // First options section: where the metadata is, and facts about the recording.
        var options = LEBuffer()
        for (id, option) in [(SectionID.headerInfo, OptionID.headerInfo), (.ftraceEvents, .ftraceEvents),
                             (.eventFormats, .eventFormats), (.kallsyms, .kallsyms), (.printk, .printk),
                             (.cmdlines, .cmdlines)] {
            options.option(option) { $0.u64(sectionOffsets[id]!) }
        }
        options.option(.traceClock) { $0.cString(c.traceClockFile) }
        options.option(.uname) { $0.cString(c.uname) }
        options.option(.version) { $0.cString(c.version) }
        options.option(.traceID) { $0.u64(c.traceID) }
        options.option(.cpuCount) { $0.u32(c.cpuCount) }
        // trace-cmd marks the stats of an instance buffer with a "Buffer:" line.
        options.option(.cpuStat) { $0.cString("\nBuffer: \(c.bufferName)\n\n") }
        for stat in c.cpuStats { options.option(.cpuStat) { $0.cString(stat.text) } }
        let optionsAt = offset
        let optionsSize = options.count + 6 + 8 // + DONE
        offset += Self.sectionHeaderSize + optionsSize

        // Flyrecord section: per-CPU pages, the first on a page boundary.
        let flyAt = offset
        let flyBodyAt = flyAt + Self.sectionHeaderSize
        var cpuOffset = (flyBodyAt + c.pageSize - 1) / c.pageSize * c.pageSize
        var cpuPlacement: [(cpu: Int, offset: Int, size: Int)] = []
        for file in c.cpuFiles {
            cpuPlacement.append((file.cpu, cpuOffset, file.size))
            cpuOffset += file.size
        }
        let flyEnd = cpuOffset
        offset = flyEnd

        // Second options section: the BUFFER option for the data just placed.
        var bufferOptions = LEBuffer()
        bufferOptions.option(.buffer) { b in
            b.u64(flyAt)
            b.cString(c.bufferName)
            b.cString(c.clock)
            b.u32(c.pageSize)
            b.u32(cpuPlacement.count)
            for p in cpuPlacement { b.u32(p.cpu); b.u64(p.offset); b.u64(p.size) }
        }
        bufferOptions.option(.done) { $0.u64(0) }
        let bufferOptionsAt = offset
        offset += Self.sectionHeaderSize + bufferOptions.count
        let stringsAt = offset

        options.option(.done) { $0.u64(bufferOptionsAt) }
        header.patchU64(at: firstOptionsFieldAt, optionsAt)

        // Descriptions live in the strings section; a header names one by offset.
        let flyName = "buffer flyrecord \(c.bufferName)"
        let descriptions = sections.map(\.1) + ["options", flyName, "options", "strings"]
        for d in descriptions { _ = strings.id(d) }

        try out.write(header.storage)
        for i in sections.indices {
            let (id, desc, body) = sections[i]
            try out.write(sectionHeader(id, strings.id(desc), body.count).storage)
            try out.write(body.storage)
            sections[i].2 = LEBuffer() // free as we go
        }
        try out.write(sectionHeader(.options, strings.id("options"), options.count).storage)
        try out.write(options.storage)
        try out.write(sectionHeader(.bufferFlyrecord, strings.id(flyName), flyEnd - flyBodyAt).storage)
        try out.pad(to: cpuPlacement.first?.offset ?? flyBodyAt)
        for file in c.cpuFiles { try out.copy(from: file.path, size: file.size) }
        try out.write(sectionHeader(.options, strings.id("options"), bufferOptions.count).storage)
        try out.write(bufferOptions.storage)
        precondition(out.position == stringsAt, "trace.dat layout: strings section misplaced")
        let table = strings.storage
        try out.write(sectionHeader(.strings, strings.id("strings"), table.count).storage)
        try out.write(table)
    }

    private func sectionHeader(_ id: SectionID, _ description: Int, _ size: Int) -> LEBuffer {
        var b = LEBuffer()
        b.u16(Int(id.rawValue)); b.u16(0); b.u32(description); b.u64(size)
        return b
    }
}

/// The strings section: NUL-terminated strings, named by their offset.
struct StringTable {
    private(set) var storage: [UInt8] = []
    private var ids: [String: Int] = [:]

    mutating func id(_ s: String) -> Int {
        if let id = ids[s] { return id }
        let id = storage.count
        storage.append(contentsOf: s.utf8)
        storage.append(0)
        ids[s] = id
        return id
    }
}
