extension DatV7Chunks {
    /// Every CPU stream the BUFFER options of the options-section chain list,
    /// and the sections the options point to.
    ///
    /// The options are read as libtracecmd 3.1.6 reads them (`handle_options`):
    /// from after each section's header, option after option, up to its DONE
    /// option — not up to the size the section header declares, which
    /// `read_section_header` hands libtracecmd and libtracecmd ignores. Why:
    /// FuzzDatReader's find, a section whose declared size (43 bytes) stopped
    /// this walk before the BUFFER option that libtracecmd went on to read;
    /// that buffer's first zstd chunk was damaged, libtracecmd failed setting
    /// it up and crashed in the cleanup (see `DatV7Chunks`), and no check here
    /// had looked at the chunk. What libtracecmd reads, the walk checks; a
    /// section that ends with the file before its DONE option fails in
    /// libtracecmd too (`read2` past the end), and is refused here.
    func layout(firstOptions: UInt64) throws -> Layout {
        var result = Layout()
        var next = firstOptions
        var visited: Set<UInt64> = []
        while next != 0 {
            // libtracecmd follows the chain by recursion: a loop overflows its stack.
            guard visited.count < Self.maximumSections, visited.insert(next).inserted else {
                throw Failure(reason: "damaged: the options sections form a loop (at byte \(next))")
            }
            let section = next
            let header = try read(at: section, count: 16)
            let flags = number(Array(header[2..<4]))
            guard number(Array(header[0..<2])) == 0 else {
                throw Failure(reason: "no options section at byte \(section), where the file says one is")
            }
            guard flags & 1 == 0 else {
                throw Failure(reason: "damaged: the options section at byte \(section) is compressed")
            }
            next = 0
            var p = section + 16
            var done = false
            while !done {
                guard p - section <= Self.maximumOptionsSection else {
                    throw Failure(reason: "damaged: the options section at byte \(section) has no DONE option in its first \(Self.maximumOptionsSection) bytes")
                }
                let head = try options(at: p, count: 6, of: section)
                let id = number(Array(head[0..<2]))
                let length = number(Array(head[2..<6]))
                guard length <= Self.maximumOptionsSection else {
                    throw Failure(reason: "damaged: option \(id) at byte \(p) claims \(length) bytes")
                }
                let data = try options(at: p + 6, count: length, of: section)
                p += 6 + length
                try DatOptionCheck.check(id: id, data: data, bigEndian: bigEndian, sectioned: true)
                result.clock.take(option: id, data: data, bigEndian: bigEndian)
                switch id {
                case 0:  // DONE: the offset of the next options section
                    if data.count >= 8 { next = number(Array(data[0..<8])) }
                    done = true
                case 3:  // BUFFER
                    result.cpus += try bufferCPUs(data)
                case 16...21 where data.count >= 8:
                    let offset = number(Array(data[0..<8]))
                    switch id {
                    case 16: result.headerInfo.append(offset)
                    case 17: result.ftraceFormats.append(offset)
                    case 18: result.eventFormats.append(offset)
                    case 19: result.kallsyms.append(offset)
                    case 20: result.printkFormats.append(offset)
                    default: result.commandLines.append(offset)
                    }
                default:
                    break
                }
            }
        }
        return result
    }

    /// `count` bytes of the options section at `section`, from byte `at`.
    private func options(at offset: UInt64, count: UInt64, of section: UInt64) throws -> [UInt8] {
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard !overflow, end <= fileSize else {
            throw Failure(reason: "truncated or damaged: the options section at byte \(section) ends with the file before its DONE option")
        }
        return try read(at: offset, count: count)
    }
}
