import Foundation
import Testing
@_spi(Fuzzing) @testable import TraceIO

/// Inputs that once crashed a reader (found by the fuzz targets in Fuzz/ or
/// the corrupt-file tests), kept in Tests/Fixtures/fuzz/. Each must now be
/// rejected with a TraceError — in process, so a regression crashes the suite.
@Suite struct FuzzRegressionTests {
    static let fixtures = [
        "dat-v7-header-cut-30.dat", "dat-v7-chunk-past-eof.dat", "dat-v7-first-chunk-corrupt.dat",
        "dat-v7-instance-header-page-garbled.dat", "dat-v7-format-crashes-libtraceevent.dat",
        "open-kbuffer-reads-past-page.dat", "dat-v7-hook-option.dat", "dat-v7-printk-line-without-format.dat",
        "dat-v7-cpu-data-marked-compressed.dat", "dat-v7-kallsyms-size-wraps.dat",
        "dat-v7-buffer-clock-unterminated.dat", "dat-v7-field-bracket-unclosed.dat",
        "dat-v7-print-fmt-division-by-zero.dat", "dat-v7-flags-value-indexes.dat",
        "dat-v7-divisor-word-before-arrow.dat", "dat-v7-options-section-size-short.dat",
    ]

    /// Refused by the checks alone, as the fuzz target opens them: without
    /// DatOpenProbe, libtracecmd would parse them in this process (a missing
    /// check crashes the suite, as it would crash the fuzz target).
    @Test(arguments: fixtures)
    func refusedWithoutTheOpenProbe(name: String) throws {
        #expect(throws: TraceError.self) { _ = try DatReader(path: Samples.fixture("fuzz/\(name)"), openProbe: false) }
    }

    /// libtracecmd double-freed (glibc abort) on a v7 file ending inside the
    /// options offset after the compression strings; see DatV7Header.
    @Test func datV7HeaderCutInOptionsOffset() throws {
        let path = Samples.fixture("fuzz/dat-v7-header-cut-30.dat")
        #expect(throws: TraceError.self) { _ = try DatReader(path: path) }
        #expect(throws: TraceError.self) { _ = try TraceFile.open(path: path) }
    }

    /// Every cut of a real v7 file's first 64 bytes: the whole fixed header.
    @Test func datV7EveryHeaderCut() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Samples.path("punch_hole.dat")))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wbreplay-cut-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for cut in 11...64 {
            let path = dir.appendingPathComponent("cut-\(cut).dat").path
            FileManager.default.createFile(atPath: path, contents: bytes.prefix(cut))
            #expect(throws: TraceError.self, "cut at \(cut) bytes") { _ = try DatReader(path: path) }
        }
    }

    /// libtracecmd 3.1.6 crashed (SIGSEGV in tracecmd_close after
    /// tracecmd_buffer_instance_handle failed) on a zstd file whose first
    /// compressed chunk of a CPU claims a size past the end of the file — first
    /// seen as one flipped byte of traces/rename_over_dirty.dat; the fixture is
    /// a 44 KB seed (Fuzz/small-dat-seeds.py) with the same byte set. See DatV7Chunks.
    @Test func datV7ChunkPastEndOfFile() throws {
        let path = Samples.fixture("fuzz/dat-v7-chunk-past-eof.dat")
        #expect(throws: TraceError.self) { _ = try DatReader(path: path) }
        #expect(throws: TraceError.self) { _ = try TraceFile.open(path: path) }
    }

    /// The original find: byte 0x11D9EE of rename_over_dirty.dat (the high byte
    /// of CPU 1's second chunk size) set to 0x34.
    @Test func datV7ChunkPastEndOfRealFile() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Samples.path("rename_over_dirty.dat"))))
        bytes[0x11D9EE] = 0x34
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wbreplay-chunk-\(UUID().uuidString).dat").path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try DatReader(path: path)
        } throws: { error in
            "\(error)".contains("compressed chunk 1 of CPU 1")
        }
    }

    /// FuzzDatReader's find: a zstd seed with bytes changed inside CPU 0's
    /// first compressed chunk of an instance. libtracecmd could not decompress
    /// it while opening the instance and crashed in the cleanup (SIGSEGV in
    /// tracecmd_close). See DatV7Chunks. The same input also garbles a jbd2
    /// field name: the formats and the chunks are checked on both cores at
    /// once (`DatV7OpenChecks`), and the error is still the one a single
    /// thread meets first, the format's.
    @Test func datV7FirstChunkDoesNotDecompress() throws {
        let path = Samples.fixture("fuzz/dat-v7-first-chunk-corrupt.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("event format 1 of jbd2: its print format reads REC->transaction")
        }
    }

    /// FuzzDatReader's find: the header_page format's first field line
    /// garbled in an instance seed; libtraceevent then knows no 8-byte page
    /// timestamp, libtracecmd fails to set up the instance's first page and
    /// crashes in the cleanup. See DatHeaderPage.
    @Test func datV7InstanceWithoutPageTimestamp() throws {
        let path = Samples.fixture("fuzz/dat-v7-instance-header-page-garbled.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("header_page format is not the kernel's")
        }
    }

    /// FuzzDatReader's find: an event format that libtraceevent's parser
    /// dereferences NULL on (`trace-cmd report` crashes on this file too):
    /// `REC->Xtate`, no field, inside `__print_flags`. See DatEventFormatCheck.
    @Test func datFormatThatCrashesLibtraceevent() throws {
        let path = Samples.fixture("fuzz/dat-v7-format-crashes-libtraceevent.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("REC->Xtate, which is not one of its fields")
        }
    }

    /// FuzzDatReader's find after 21 753 runs: the file opened cleanly, but
    /// reading its records made libtraceevent's kbuffer read ~128 MB past a
    /// page (SIGSEGV; `trace-cmd report` crashes on it too): page 1 of CPU 1
    /// has a commit word claiming 134 217 601 bytes with the "lost events
    /// stored" flags set, and kbuffer reads the count after the claimed events
    /// before libtracecmd checks the size. Now every page is checked before
    /// libtracecmd sees the file (DatRingBufferPage): refused at open.
    @Test func datKbufferReadsPastDamagedPage() throws {
        let path = Samples.fixture("fuzz/open-kbuffer-reads-past-page.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("page 1: it claims 134217601 bytes of events in a page with room for 4080")
        }
        #expect(throws: TraceError.self) { _ = try TraceFile.open(path: path) }
    }

    /// FuzzDatReader's find, in process (no probe): a seed whose printk
    /// section size (0) became 176, so libtracecmd read binary bytes as printk
    /// formats; libtraceevent's `tep_parse_printk_formats` copied from one
    /// byte past a line without ':' — past its buffer (ASan heap overflow).
    @Test func datPrintkLineWithoutFormat() throws {
        let path = Samples.fixture("fuzz/dat-v7-printk-line-without-format.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("printk format line has no text after its address")
        }
    }

    /// FuzzDatReader's find, in process: the DONE option of a seed's options
    /// section changed into a HOOK option (id 6) of 8 zero bytes; libtracecmd
    /// wrote through the NULL its hook parser returned (SIGSEGV in
    /// tracecmd_open). See DatOptionCheck.
    @Test func datHookOption() throws {
        let path = Samples.fixture("fuzz/dat-v7-hook-option.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("event hook option")
        }
    }

    /// FuzzDatReader's find, in process: a tiny uncompressed seed whose BUFFER
    /// option points at bytes whose "compressed" flag is set, so libtracecmd
    /// read its CPU data as compressed chunks without a decompressor, failed,
    /// and crashed in the cleanup (SIGSEGV in tracecmd_close: list heads of
    /// CPUs it had not set up). DatV7Chunks now reads the CPU data section's
    /// flag as libtracecmd does.
    @Test func datCPUDataMarkedCompressed() throws {
        let path = Samples.fixture("fuzz/dat-v7-cpu-data-marked-compressed.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("marked compressed in a file without compression")
        }
    }

    /// FuzzDatReader's find after 149 706 executions of the in-process target:
    /// a tiny seed whose kallsyms size became 0xFFFFFFFF; libtracecmd
    /// allocated size + 1 = 0 bytes and read the rest of the file into them
    /// (ASan heap overflow in read). See DatFormatSections.checkSizedText.
    @Test func datKallsymsSizeWraps() throws {
        let path = Samples.fixture("fuzz/dat-v7-kallsyms-size-wraps.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("its kallsyms claim 4294967295 bytes")
        }
    }

    /// FuzzDatReader's find after 168 743 executions: a BUFFER option whose
    /// clock string runs to the end of the option (bytes of a format text
    /// copied over it); libtracecmd's save_read_string strdup'd past the
    /// option (ASan heap overflow). See DatOptionCheck.
    @Test func datBufferClockUnterminated() throws {
        let path = Samples.fixture("fuzz/dat-v7-buffer-clock-unterminated.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("clock is not a terminated string")
        }
    }

    /// FuzzDatReader's find after 357 908 executions: workqueue_queue_work's
    /// `__data_loc char[] workqueue` field line with its "]" overwritten;
    /// libtraceevent's field parser compared the NULL token at the end of the
    /// text with "]" (SIGSEGV in strcmp). See DatEventFormatCheck.
    @Test func datFieldBracketUnclosed() throws {
        let path = Samples.fixture("fuzz/dat-v7-field-bracket-unclosed.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("opens an array bracket it does not close")
        }
    }

    /// FuzzDatReader's find after 230 389 executions: ext4_es_lookup_extent_exit's
    /// print format garbled into `__print_flags/releaseund ? REC->status : 0, ...`;
    /// libtraceevent 1.7 folds the two atoms and divides by zero while parsing
    /// it (SIGFPE in tep_parse_event). See DatPrintFormatArithmetic.
    @Test func datPrintFormatDivisionByZero() throws {
        let path = Samples.fixture("fuzz/dat-v7-print-fmt-division-by-zero.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("divides by zero")
        }
    }

    /// FuzzDatReader's find after 27 244 executions (seed 1, the corpus of
    /// this tree's recordings): ext4_ext_handle_unwritten_extents' print
    /// format garbled into `(unsigned) %EC->lblk`; libtraceevent reads `EC`
    /// as an atom (only `REC` begins a field), folds `unsigned % EC` and
    /// divides by zero (SIGFPE in tep_parse_event).
    @Test func datDivisorIsAWordBeforeAnArrow() throws {
        let path = Samples.fixture("fuzz/dat-v7-divisor-word-before-arrow.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("divides by zero")
        }
    }

    /// FuzzDatReader's find after 379 059 executions: a `__print_flags` entry
    /// of ext4_ext_map_blocks_enter garbled into `{ 0xm[9999…916]; of…`;
    /// libtraceevent 1.7's table parser dereferences NULL on its way out
    /// (SIGSEGV in tep_parse_event). See DatPrintFormatTables.
    @Test func datFlagsValueIndexes() throws {
        let path = Samples.fixture("fuzz/dat-v7-flags-value-indexes.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("table of its print format has a value that is not a constant")
        }
    }

    /// With the probe (as users open files) the SIGFPE file is refused.
    @Test func datPrintFormatDivisionByZeroRefusedByTheProbe() throws {
        let path = Samples.fixture("fuzz/dat-v7-print-fmt-division-by-zero.dat")
        #expect(throws: TraceError.self) { _ = try DatReader(path: path) }
    }

    /// FuzzDatReader's find (at 8 818 executions of a fresh clone's run): a
    /// zstd seed whose first options section declares 43 of its 220 bytes
    /// and whose CPU 0 has a damaged first chunk. The walk stopped at the
    /// declared size, before the BUFFER option; libtracecmd reads to DONE,
    /// failed setting the buffer up and crashed in the cleanup (SIGSEGV in
    /// tracecmd_close). See DatV7Chunks.layout(firstOptions:).
    @Test func datV7OptionsSectionDeclaredShort() throws {
        let path = Samples.fixture("fuzz/dat-v7-options-section-size-short.dat")
        #expect {
            _ = try DatReader(path: path, openProbe: false)
        } throws: { error in
            "\(error)".contains("the first compressed chunk of CPU 0 of the top level does not decompress")
        }
    }

    /// A declared options-section size is not where the options end, for
    /// libtracecmd or the walk: a real file whose first section declares
    /// none of its bytes, or far more than the file holds (only that
    /// changed), has the same streams and reads the same events, with the
    /// probe and without.
    @Test(arguments: [UInt8(0x00), 0xFF])
    func optionsReadToDoneNotToTheDeclaredSize(filler: UInt8) throws {
        let original = Samples.path("punch_hole.dat")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
        let headerEnd = try #require(DatV7Header.headerEnd(ArraySlice(bytes.prefix(512))))
        let section = Int(DatByteSource.number(bytes[(headerEnd - 8)..<headerEnd], bigEndian: false))
        #expect(DatByteSource.number(bytes[(section + 8)..<(section + 16)], bigEndian: false) > 0)
        for i in (section + 8)..<(section + 16) { bytes[i] = filler }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wbreplay-options-\(UUID().uuidString).dat").path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }

        let (_, before) = try DatV7Chunks.checkForReading(path: original)
        let (_, after) = try DatV7Chunks.checkForReading(path: path)
        #expect(!before.buffers.isEmpty)
        #expect(after.buffers.keys.sorted() == before.buffers.keys.sorted())
        for (name, buffer) in before.buffers { #expect(after.buffers[name]?.streams == buffer.streams) }
        func events(_ reader: DatReader) throws -> Int {
            var count = 0
            try reader.forEach(ReadOptions()) { if case .event = $0 { count += 1 } }
            return count
        }
        let expected = try events(DatReader(path: original))
        #expect(expected > 0)
        #expect(try events(DatReader(path: path)) == expected)
        #expect(try events(DatReader(path: path, openProbe: false)) == expected)
    }

    /// Without the probe, every real trace reads exactly as with it.
    @Test(arguments: ["punch_hole.dat", "lost-events/lost_events.dat"])
    func realTracesReadTheSameWithoutTheOpenProbe(name: String) throws {
        func count(_ reader: DatReader) throws -> (Int, Int) {
            var events = 0, lost = 0
            try reader.forEach(ReadOptions()) { if case .event = $0 { events += 1 } else { lost += 1 } }
            return (events, lost)
        }
        let probed = try count(DatReader(path: Samples.path(name)))
        let unprobed = try count(DatReader(path: Samples.path(name), openProbe: false))
        #expect(probed == unprobed)
        #expect(probed.0 > 0)
    }

    /// Every real v7 trace passes the chunk walk, which finds its CPUs.
    @Test(arguments: Samples.pairNames)
    func chunkWalkAcceptsRealFiles(name: String) throws {
        try DatV7Chunks.check(path: Samples.path(name + ".dat"))
        _ = try DatReader(path: Samples.path(name + ".dat"))
    }

    /// The walk before libtracecmd's open decompresses each stream's first
    /// chunk only; the chunks after it are left to the page check that runs
    /// beside the open, and pass it.
    @Test func laterPagesOfRealFiles() throws {
        var chunksLeft: UInt64 = 0
        for name in Samples.pairNames {
            let later = try DatV7Chunks.checkForOpen(path: Samples.path(name + ".dat"))
            for stream in later.streams {
                let chunks = try #require(stream.chunks, "the sample traces are compressed")
                #expect(chunks > 0 && stream.firstPage > 0)
                chunksLeft += chunks
            }
            try later.start().finish()
        }
        #expect(chunksLeft > 0)
    }

    /// A damaged page past what libtracecmd's open reads is found by the
    /// page check beside the open: with the probe (the open succeeds in the
    /// child and in this process), the file is still refused before a
    /// record is read, with the page's error.
    @Test func damagedLaterPageRefusedAfterTheOpen() throws {
        let path = Samples.fixture("fuzz/open-kbuffer-reads-past-page.dat")
        let later = try DatV7Chunks.checkForOpen(path: path)
        #expect(!later.streams.isEmpty)
        #expect {
            _ = try DatReader(path: path)
        } throws: { error in
            "\(error)".contains("page 1: it claims 134217601 bytes of events in a page with room for 4080")
        }
    }

    @Test func headerEndOfARealFile() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Samples.path("punch_hole.dat")))
        // 10 magic, "7\0", endianness, long size, page size (4), "zstd\0", "1.5.4\0", offset (8): 37.
        #expect(DatV7Header.headerEnd(ArraySlice([UInt8](bytes.prefix(512)))) == 37)
        #expect(DatV7Header.headerEnd(ArraySlice([UInt8](bytes.prefix(36)))) == nil)
    }
}
