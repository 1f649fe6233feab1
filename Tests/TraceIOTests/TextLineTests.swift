import Foundation
import Testing
@testable import TraceIO

/// Tricky lines of text traces, one at a time.
@Suite struct TextLineTests {
    static let header = """
    # tracer: nop
    #
    # entries-in-buffer/entries-written: 10/12   #P:4
    #

    """

    func read(_ body: String, _ options: ReadOptions = ReadOptions()) throws -> (TextReader, [TraceRecord]) {
        try TextSamples.records(TextSamples.write(TextLineTests.header + body), options)
    }

    func events(_ body: String, _ options: ReadOptions = ReadOptions()) throws -> [TraceEvent] {
        try read(body, options).1.compactMap { if case .event(let e) = $0 { return e } else { return nil } }
    }

    @Test func taskNamesWithSpacesAndDashes() throws {
        let e = try events("""
                jbd2/loop0-8-4797    [001] d.s2.   518.460281: jbd2_start_commit: dev 7,0 transaction 2 sync 0
                  <idle>-0       [000] d.h1.   518.460282: block_rq_complete: 7,0 WS () 34816 + 8 be,0,4 [0]
                   <...>-123     [001] .....   518.460283: ext4_sync_fs: dev 7,0 wait 1
                kworker/u8:1-32      [000] .....   518.460284: ext4_sync_fs: dev 7,0 wait 0
               my task-x-1-77    [001] .....   518.460285: ext4_sync_fs: dev 7,0 wait 0
              bash-1977  (   1977) [000] .....   518.460286: ext4_sync_fs: dev 7,0 wait 0

        """)
        #expect(e.map(\.comm) == ["jbd2/loop0-8", "<idle>", "<...>", "kworker/u8:1", "my task-x-1", "bash"])
        #expect(e.map(\.pid) == [4797, 0, 123, 32, 77, 1977])
        #expect(e.map(\.cpu) == [1, 0, 1, 0, 1, 0])
        #expect(e[0].timestamp == 518_460_281_000)
        #expect(e[0].fields["transaction"] == .unsigned(2))
        #expect(e[0].fields["sync_commit"] == .unsigned(0))  // char, signed:0
    }

    @Test func lostEventsPrecedeTheNextEventOfTheirCPU() throws {
        let (reader, records) = try read("""
                 python3-1    [001] .....     1.000001: ext4_sync_fs: dev 7,0 wait 1
        CPU:1 [LOST 42 EVENTS]
                 python3-1    [000] .....     1.000002: ext4_sync_fs: dev 7,0 wait 1
                 python3-1    [001] .....     1.000003: ext4_sync_fs: dev 7,0 wait 1
        CPU:0 [LOST 5 EVENTS]

        """)
        #expect(reader.damagedLines == 0)
        #expect(reader.metadata.entriesInBuffer == 10 && reader.metadata.entriesWritten == 12 && reader.metadata.cpuCount == 4)
        let shape: [String] = records.map {
            switch $0 {
            case .event(let e): return "e\(e.cpu)@\(e.timestamp)"
            case .lost(let l): return "lost\(l.cpu)x\(l.count.map(String.init) ?? "?")@\(l.timestamp.map(String.init) ?? "end")"
            }
        }
        #expect(shape == ["e1@1000001000", "e0@1000002000", "lost1x42@1000003000", "e1@1000003000", "lost0x5@end"])
    }

    @Test func reportDroppedEventsLine() throws {
        let path = TextSamples.write("""
        cpus=2
        cap:          python3-4739  [000]   518.460280532: sys_enter_fsync:      fd: 0x00000003
        cap: CPU:0 [7 EVENTS DROPPED]
        cap:          python3-4739  [000]   518.460284137: sys_exit_fsync:       0x0

        """)
        let (_, records) = try TextSamples.records(path)
        guard records.count == 3, case .lost(let lost) = records[1] else {
            Issue.record("expected a lost record between the events: \(records)")
            return
        }
        #expect(lost.count == 7 && lost.cpu == 0 && lost.timestamp == 518_460_284_137)
    }

    @Test func gluedFieldsOfReserveSpace() throws {
        let e = try events("""
                 python3-9    [001] .....   1.000001: ext4_da_reserve_space: dev 7,0 ino 12 mode 0100644 i_blocks 0 reserve_blocks 1reserved_data_blocks 1

        """)
        #expect(e[0].fields["reserve_blocks"] == .signed(1))
        #expect(e[0].fields["reserved_data_blocks"] == .signed(1))
        #expect(e[0].fields["mode"] == .unsigned(0o100644))
    }

    @Test func syscallsAreNamedAsInTheFormatFiles() throws {
        let e = try events("""
                 python3-9    [001] .....   1.000001: sys_ioctl(fd: 3, cmd: 0xffffffffc0045877, arg: 0x0)
                 python3-9    [001] .....   1.000002: sys_ioctl -> 0xffffffffffffffe7
                 python3-9    [001] .....   1.000003: sys_fsync(fd: 3)
                 python3-9    [001] .....   1.000004: sys_fsync -> 0x0
                 python3-9    [001] .....   1.000005: sys_sync()
                 python3-9    [001] .....   1.000006: sys_openat(dfd: -100, filename: 0x7ffd1, flags: 0x241, mode: 0x1b6)

        """)
        #expect(e.map(\.name) == ["sys_enter_ioctl", "sys_exit_ioctl", "sys_enter_fsync", "sys_exit_fsync", "sys_enter_sync", "sys_enter_openat"])
        #expect(e.allSatisfy { $0.system == "syscalls" })
        #expect(e[0].fields["cmd"] == .unsigned(0xffff_ffff_c004_5877))
        #expect(e[0].fields.uint("cmd").map { $0 & 0xffff_ffff } == 0xc004_5877)
        #expect(e[1].fields["ret"] == .signed(-25))
        #expect(e[2].fields["fd"] == .unsigned(3))
        #expect(e[3].fields["ret"] == .signed(0))
        #expect(e[4].fields.isEmpty)
        #expect(e[5].fields["dfd"] == .unsigned(UInt64(bitPattern: -100)))
        #expect(e[5].fields["mode"] == .unsigned(0o666))
    }

    @Test func flushRequestsAndZeroLengthCompletions() throws {
        let e = try events("""
                  <idle>-0       [000] d.h1.   1.000001: block_rq_complete: 7,0 FF () 18446744073709551615 + 0 be,0,4 [0]
                  <idle>-0       [000] d.h1.   1.000002: block_rq_complete: 7,0 WSM () 520 + 0 none,0,0 [-5]
                  <idle>-0       [000] d.h1.   1.000003: block_rq_issue: 7,0 WS 4096 () 34816 + 8 be,0,4 [kworker/1:1H]

        """)
        #expect(e[0].fields["sector"] == .unsigned(UInt64.max))
        #expect(e[0].fields["nr_sector"] == .unsigned(0))
        #expect(e[0].fields["rwbs"] == .string("FF"))
        #expect(e[0].fields["ioprio"] == .unsigned(2 << 13 | 4))
        #expect(e[1].fields["error"] == .signed(-5))
        #expect(e[1].fields["ioprio"] == .unsigned(0))
        #expect(e[2].fields["comm"] == .string("kworker/1:1H"))
        #expect(e[2].fields["bytes"] == .unsigned(4096))
        #expect(e[2].fields["dev"] == .device(DeviceNumber(major: 7, minor: 0)))
    }

    @Test func symbolicFlagsBecomeTheirValues() throws {
        let e = try events("""
                 python3-9    [001] .....   1.000001: ext4_ext_handle_unwritten_extents: dev 7,0 ino 12 m_lblk 0 m_pblk 2127 m_len 256 flags CREATE|UNWRIT|PRE_IO|METADATA_NOFAIL allocated 16384 newblock 2127
                 python3-9    [001] .....   1.000002: ext4_es_insert_extent: dev 7,0 ino 12 es [0/2048) mapped 34816 status UR
                 python3-9    [001] .....   1.000003: ext4_ext_map_blocks_exit: dev 7,0 ino 12 flags CREATE lblk 0 pblk 2121 len 1 mflags NMU ret 1
                 python3-9    [001] .....   1.000004: writeback_single_inode: bdi 7:0: ino=12 state=I_SYNC|I_SYNC_QUEUED dirtied_when=4295022099 age=0 index=0 to_write=13312 wrote=0 cgroup_ino=1
                 python3-9    [001] .....   1.000005: ext4_ext_map_blocks_enter: dev 7,0 ino 2 lblk 0 len 1 flags 

        """)
        #expect(e[0].fields["flags"] == .signed(0x1 | 0x2 | 0x8 | 0x20))
        #expect(e[0].fields["lblk"] == .unsigned(0) && e[0].fields["newblk"] == .unsigned(2127))
        #expect(e[1].fields["status"] == .unsigned(0x10 | 0x2))
        #expect(e[2].fields["mflags"] == .unsigned(0x20 | 0x10 | 0x800))
        #expect(e[3].fields["state"] == .unsigned(1 << 1 | 1 << 17))
        #expect(e[3].fields["age"] == nil)  // printed from jiffies: not a field value
        #expect(e[4].fields["flags"] == .unsigned(0))
    }

    @Test func filemapAndWritebackAddressing() throws {
        let e = try events("""
                 python3-9    [001] .....   1.000001: mm_filemap_add_to_page_cache: dev 7:0 ino c pfn=0x12f2f6 ofs=3330048 order=2
                 python3-9    [001] .....   1.000002: writeback_dirty_folio: bdi 7:0: ino=12 index=147
                 python3-9    [001] .....   1.000003: writeback_dirty_folio: bdi (unknown): ino=12 index=147
                 python3-9    [001] .....   1.000004: workqueue_queue_work: work struct=0000000085e03424 function=ext4_end_io_rsv_work workqueue=ext4-rsv-conversion req_cpu=256 cpu=1

        """)
        #expect(e[0].fields["i_ino"] == .unsigned(12))
        #expect(e[0].fields["index"] == .unsigned(3_330_048 / 4096))
        #expect(e[0].fields["s_dev"] == .device(DeviceNumber(major: 7, minor: 0)))
        #expect(e[0].fields["pfn"] == .unsigned(0x12f2f6) && e[0].fields["order"] == .unsigned(2))
        #expect(e[1].fields["name"] == .string("7:0") && e[1].fields["ino"] == .unsigned(12) && e[1].fields["index"] == .unsigned(147))
        #expect(e[2].fields["name"] == .string("(unknown)"))
        #expect(e[3].fields["work"] == .unsigned(0x85e03424))
        #expect(e[3].fields["function"] == .string("ext4_end_io_rsv_work"))
        #expect(e[3].fields["workqueue"] == .string("ext4-rsv-conversion"))
        #expect(e[3].fields["req_cpu"] == .signed(256) && e[3].fields["cpu"] == .signed(1))
    }

    @Test func reportFormsWithInstanceNanosecondsAndLatency() throws {
        let path = TextSamples.write("""
        cpus=2
        cap:          python3-4739  [001]   518.460280532: ext4_sync_fs:         dev 7,0 wait 1
        cap:  python3-4802    1d..2.   519.208577: ext4_sync_fs:         dev 7,0 wait 0
        cap:          python3-4739  [001]   518.579953: writeback_mark_inode_dirty: bdi 7:0: ino=12 state=I_DIRTY_SYNC flags=0x70

        """)
        #expect(try FormatDetection.detect(path: path) == .traceCmdReport)
        let (reader, records) = try TextSamples.records(path)
        let e = records.compactMap { if case .event(let e) = $0 { return e } else { return nil } }
        #expect(reader.metadata.instance == "cap" && reader.metadata.cpuCount == 2)
        #expect(e.count == 3 && reader.damagedLines == 0)
        #expect(e[0].timestamp == 518_460_280_532 && e[0].timestampResolution == 1)
        #expect(e[1].cpu == 1 && e[1].pid == 4802 && e[1].timestampResolution == 1000)
        // libtraceevent prints 0 of an unresolvable flag table as its first name.
        #expect(e[2].fields["state"] == .unsigned(0) && e[2].fields["flags"] == .unsigned(0x70))
    }

    @Test func recordingMarkerFillsMetadata() throws {
        let text = TextLineTests.header + """
                 wbreplay-100   [000] .....   1.000001: tracing_mark_write: wbreplay-recording: clock=mono preset=ext4 block_size=4096 kernel=6.18.0

        """
        let reader = try TextReader(path: TextSamples.write(text))
        #expect(reader.metadata.recording["preset"] == "ext4")
        #expect(reader.metadata.recording["block_size"] == "4096")
        #expect(reader.metadata.clock == "mono" && reader.metadata.kernelRelease == "6.18.0")
        var first: TraceEvent?
        try reader.forEach(ReadOptions()) { if first == nil, case .event(let e) = $0 { first = e } }
        #expect(first?.name == "print" && first?.system == "ftrace")
        #expect(first?.fields["buf"] == .string("wbreplay-recording: clock=mono preset=ext4 block_size=4096 kernel=6.18.0"))
        #expect(first?.fields["ip"] == .string("tracing_mark_write"))

        let report = TextSamples.write("""
        cpus=1
        cap:     wbreplay-100   [000]     1.000001: print:                tracing_mark_write: wbreplay-recording: clock=global

        """)
        let r = try TextReader(path: report)
        #expect(r.metadata.clock == "global")
        let events = try TextSamples.events(report)
        #expect(events.first?.fields["buf"] == .string("wbreplay-recording: clock=global"))
    }

    @Test func fieldSelectionAndRawText() throws {
        let body = """
                 python3-9    [001] .....   1.000001: ext4_es_lookup_extent_enter: dev 7,0 ino 12 lblk 813
                 python3-9    [001] .....   1.000002: sys_fsync(fd: 3)

        """
        let some = try events(body, ReadOptions(fields: .named(["ino", "fd"]), keepRawText: false))
        #expect(some[0].fields == EventFields([EventField("ino", .unsigned(12))]))
        #expect(some[1].fields == EventFields([EventField("fd", .unsigned(3))]))
        #expect(some.allSatisfy { $0.rawText == nil })
        let none = try events(body, ReadOptions(fields: .none, keepRawText: true))
        #expect(none.allSatisfy { $0.fields.isEmpty })
        #expect(none[0].rawText == "dev 7,0 ino 12 lblk 813")
        #expect(none[1].rawText == "fd: 3")
    }

    @Test func eventsWithoutSpec() throws {
        let (reader, records) = try read("""
                 python3-9    [001] .....   1.000001: sched_foo: prev=12 next=-3 mode=fast
                 python3-9    [001] .....   1.000002: sched_bar: something printed freely 12
                 python3-9    [001] .....   1.000003: ext4_sync_fs: a format from another kernel

        """)
        let e = records.compactMap { if case .event(let e) = $0 { return e } else { return nil } }
        #expect(e.count == 3)
        #expect(e[0].fields["prev"] == .unsigned(12) && e[0].fields["next"] == .signed(-3) && e[0].fields["mode"] == .string("fast"))
        #expect(e[0].system == nil)
        #expect(e[1].fields.isEmpty && e[1].rawText == "something printed freely 12")
        #expect(e[2].fields.isEmpty && e[2].system == "ext4")
        #expect(reader.unmatchedFieldLines == 1)
    }
}
