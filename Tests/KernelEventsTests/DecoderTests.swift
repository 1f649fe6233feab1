import Testing
import TraceIO
@testable import KernelEvents

private let dev70 = FieldValue.device(DeviceNumber(major: 7, minor: 0))

private func event(_ name: String, _ fields: [(String, FieldValue)]) -> TraceEvent {
    TraceEvent(timestamp: 1, cpu: 0, pid: 1, comm: "t", name: name,
               fields: EventFields(fields.map { EventField($0.0, $0.1) }))
}

@Suite struct DecoderTests {
    @Test func convertFlagsFromNumericValue() {
        var d = KernelEventDecoder()
        let e = event("ext4_ext_handle_unwritten_extents", [
            ("dev", dev70), ("ino", .unsigned(12)), ("flags", .signed(0x0433)),
            ("lblk", .unsigned(297)), ("pblk", .unsigned(35113)), ("len", .unsigned(1)),
            ("allocated", .unsigned(1)), ("newblk", .unsigned(35113)),
        ])
        guard case .ext4(.handleUnwritten(let ref, let flags, let extent)) = d.decode(e) else {
            Issue.record("not decoded"); return
        }
        #expect(ref == InodeKey(dev: DeviceNumber(major: 7, minor: 0), ino: 12))
        #expect(flags.contains(.convert))
        #expect(!flags.contains(.preIO))
        #expect(extent == ExtentRange(lblk: 297, pblk: 35113, len: 1))
        #expect(d.diagnostics.isEmpty)
    }

    @Test func symbolicFlagsAndMFlagsAreDecodedToo() {
        var d = KernelEventDecoder()
        let e = event("ext4_ext_map_blocks_exit", [
            ("dev", dev70), ("ino", .unsigned(12)), ("flags", .string("CREATE|UNWRIT|PRE_IO|EX_NOCACHE")),
            ("pblk", .unsigned(10)), ("lblk", .unsigned(0)), ("len", .unsigned(1)),
            ("mflags", .string("NMU")), ("ret", .signed(1)),
        ])
        guard case .ext4(.mapBlocksExit(_, let flags, _, let result, let ret)) = d.decode(e) else {
            Issue.record("not decoded"); return
        }
        #expect(flags == [.create, .unwritten, .preIO, .exNoCache])
        #expect(result == [.new, .mapped, .unwritten])
        #expect(ret == 1)
    }

    @Test func pageAndFolioNamesAndRenamedFieldsAreAlternatives() {
        var d = KernelEventDecoder()
        let folio = event("writeback_dirty_folio", [("name", .string("7:0")), ("ino", .unsigned(12)), ("index", .unsigned(3))])
        let page = event("writeback_dirty_page", [("name", .string("7:0")), ("ino", .unsigned(12)), ("folio_index", .unsigned(3))])
        guard case .writeback(let a) = d.decode(folio), case .writeback(let b) = d.decode(page) else {
            Issue.record("not decoded"); return
        }
        #expect(a == b)
        #expect(a == .dirtyFolio(bdi: "7:0", ino: 12, index: 3))
    }

    @Test func missingFieldGivesOtherAndOneDiagnosticPerFormat() {
        var d = KernelEventDecoder()
        let broken = event("ext4_es_insert_extent", [("dev", dev70), ("ino", .unsigned(12)), ("lblk", .unsigned(1))])
        for _ in 0..<3 {
            guard case .other = d.decode(broken) else { Issue.record("decoded a partial event"); return }
        }
        let entries = d.diagnostics.entries
        #expect(entries.count == 1)
        #expect(entries.first?.count == 3)
        #expect(entries.first?.event == "ext4_es_insert_extent")
    }

    @Test func unknownEventsStayOtherWithoutDiagnostics() {
        var d = KernelEventDecoder()
        guard case .other(let e) = d.decode(event("ext4_es_lookup_extent_enter", [])) else {
            Issue.record("unexpected decode"); return
        }
        #expect(e.name == "ext4_es_lookup_extent_enter")
        #expect(d.diagnostics.isEmpty)
    }

    @Test func ioctlCommandsCompareLow32Bits() {
        var d = KernelEventDecoder()
        for raw: UInt64 in [0xC004_5877, 0xFFFF_FFFF_C004_5877] {
            let e = event("sys_enter_ioctl", [("__syscall_nr", .signed(16)), ("fd", .unsigned(3)), ("cmd", .unsigned(raw)), ("arg", .unsigned(0))])
            guard case .syscall(.enter(.ioctl, let args)) = d.decode(e) else { Issue.record("not decoded"); return }
            #expect(args.ioctl == .freeze)
            #expect(args.fd == 3)
        }
        let thaw = event("sys_enter_ioctl", [("fd", .unsigned(3)), ("cmd", .signed(-1_073_457_032))])
        guard case .syscall(.enter(_, let args)) = d.decode(thaw) else { Issue.record("not decoded"); return }
        #expect(args.ioctl == .thaw)
        let exit = event("sys_exit_ioctl", [("__syscall_nr", .signed(16)), ("ret", .signed(-25))])
        guard case .syscall(.exit(.ioctl, let ret)) = d.decode(exit) else { Issue.record("not decoded"); return }
        #expect(ret == -25)
    }

    @Test func workqueueFunctionKeepsUnresolvedAddressAsHex() {
        var d = KernelEventDecoder()
        let named = event("workqueue_execute_start", [("work", .unsigned(0xABC)), ("function", .string("ext4_end_io_rsv_work"))])
        let raw = event("workqueue_execute_start", [("work", .unsigned(0xABC)), ("function", .unsigned(0xFFFF_FFFF_8100_0000))])
        guard case .workqueue(let a) = d.decode(named), case .workqueue(let b) = d.decode(raw) else {
            Issue.record("not decoded"); return
        }
        #expect(a.key == WorkKey(work: 0xABC, function: "ext4_end_io_rsv_work"))
        #expect(b.key.function == "0xffffffff81000000")
    }
}

@Suite struct RWBSTests {
    @Test func flushesPreflushAndFUA() {
        let ff = RWBS("FF")
        #expect(ff.isFlush && ff.preflush && !ff.carriesData)
        let fwfsm = RWBS("FWFSM")
        #expect(fwfsm.operation == .write && fwfsm.preflush && fwfsm.fua && fwfsm.sync && fwfsm.meta)
        let ws = RWBS("WS")
        #expect(ws.operation == .write && !ws.preflush && !ws.fua && ws.sync)
        #expect(RWBS("RA").operation == .read)
        #expect(RWBS("F").isFlush && !RWBS("F").preflush)
    }
}

@Suite struct FieldsUsedTests {
    @Test func fieldsUsedCoverWhatDecodersRead() {
        let used = KernelEventDecoder.fieldsUsed
        for name in ["dev", "ino", "lblk", "pblk", "len", "flags", "mflags", "status", "sector", "nr_sector", "rwbs",
                     "work", "function", "s_dev", "i_ino", "index", "order", "name", "transaction", "next_pid", "cmd", "ret",
                     "m_lblk", "folio_index", "old_sector"] {
            #expect(used.contains(name), "\(name)")
        }
        #expect(!used.contains("pfn"))
        #expect(!used.contains("comm"))
    }
}

/// The decoder caches its per-format plan by `TraceEvent.formatID`; numbers
/// are a reader's own, so one decoder fed events whose numbers collide with
/// other names must still decode each by its name.
@Suite struct DecoderPlanCacheTests {
    @Test func collidingFormatIDsStillDecodeByName() {
        var shared = KernelEventDecoder()
        var a = event("ext4_sync_file_enter", [("dev", dev70), ("ino", .unsigned(12)), ("parent", .unsigned(2)), ("datasync", .signed(1))])
        var b = event("block_rq_issue", [("dev", dev70), ("sector", .unsigned(8)), ("nr_sector", .unsigned(8)),
                                          ("bytes", .unsigned(4096)), ("rwbs", .string("WS")), ("comm", .string("t"))])
        var c = event("sys_exit_fsync", [("ret", .signed(0))])
        a.formatID = 7
        b.formatID = 7
        c.formatID = 7
        for e in [a, b, c, a] {
            var fresh = KernelEventDecoder()
            #expect("\(shared.decode(e))" == "\(fresh.decode(e))", "\(e.name)")
        }
        guard case .ext4(.syncFileEnter(_, datasync: true)) = shared.decode(a) else { Issue.record("a"); return }
        guard case .block(.requestIssue) = shared.decode(b) else { Issue.record("b"); return }
        guard case .syscall(.exit(.fsync, ret: 0)) = shared.decode(c) else { Issue.record("c"); return }
    }

    @Test func fieldsByEventCoversEveryFieldTheDecodersRead() {
        let map = KernelEventDecoder.fieldsByEvent
        #expect(map.fields(of: "ext4_ext_map_blocks_exit")?.isSuperset(of: ["lblk", "pblk", "len", "flags", "mflags"]) == true)
        #expect(map.fields(of: "sys_exit_fsync") == ["ret"])
        #expect(map.fields(of: "ext4_es_lookup_extent_enter") == nil)
        let union = map.exact.values.reduce(into: Set<String>()) { $0.formUnion($1) }
        #expect(union.isSubset(of: KernelEventDecoder.fieldsUsed))
    }
}
