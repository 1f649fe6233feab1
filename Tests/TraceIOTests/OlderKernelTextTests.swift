import Foundation
import Testing
@testable import TraceIO

/// tracefs text of kernels older than the development machine's: each
/// kernel's print format of an event decodes (the specs hold one variant per
/// distinct format among the lab kernels, traces/kernels/*/formats.zst).
@Suite struct OlderKernelTextTests {
    func read(_ body: String) throws -> (TextReader, [TraceEvent]) {
        let (reader, records) = try TextSamples.records(TextSamples.write(TextLineTests.header + body))
        return (reader, records.compactMap { if case .event(let e) = $0 { return e } else { return nil } })
    }

    /// 5.10 and 6.1 print block requests without 6.12's ioprio column.
    @Test func blockRequestsBeforeTheIoprioColumn() throws {
        let (reader, e) = try read("""
                 python3-311   [001] .....   61.000001: block_rq_issue: 7,0 WS 4096 () 278840 + 8 [python3]
                  <idle>-0     [000] d.h1.   61.000002: block_rq_complete: 7,0 WS () 278840 + 8 [0]
                  <idle>-0     [000] d.h1.   61.000003: block_rq_complete: 7,0 WS () 34816 + 8 be,0,4 [0]

        """)
        #expect(reader.unmatchedFieldLines == 0)
        #expect(e[0].fields["sector"] == .unsigned(278_840) && e[0].fields["bytes"] == .unsigned(4096))
        #expect(e[0].fields["comm"] == .string("python3") && e[0].fields["ioprio"] == nil)
        #expect(e[1].fields["nr_sector"] == .unsigned(8) && e[1].fields["error"] == .signed(0))
        #expect(e[1].fields["rwbs"] == .string("WS") && e[1].fields["ioprio"] == nil)
        // The newer form still takes its own variant, ioprio included.
        #expect(e[2].fields["sector"] == .unsigned(34_816) && e[2].fields["ioprio"] != nil)
    }

    /// ≤ 5.16's page-named writeback events and ≤ 6.17's ext4_da_write_pages,
    /// and a bio-based device's completion with its error.
    @Test func namesOnlyOlderKernelsHave() throws {
        let (reader, e) = try read("""
                 python3-311   [001] .....   61.000001: writeback_dirty_page: bdi 7:0: ino=12 index=3
                 python3-311   [001] .....   61.000002: wait_on_page_writeback: bdi 7:0: ino=12 index=3
                 python3-311   [001] .....   61.000003: ext4_da_write_pages: dev 7,0 ino 12 first_page 0 nr_to_write 9223372036854775807 sync_mode 1
                 python3-311   [001] .....   61.000004: ext4_writepage: dev 7,0 ino 12 page_index 5
                  <idle>-0     [000] d.h1.   61.000005: block_bio_complete: 254,0 WS 16520 + 512 [-5]

        """)
        #expect(reader.unmatchedFieldLines == 0)
        #expect(e[0].fields["name"] == .string("7:0") && e[0].fields["ino"] == .unsigned(12) && e[0].fields["index"] == .unsigned(3))
        #expect(e[1].fields["index"] == .unsigned(3))
        #expect(e[2].fields["first_page"] == .unsigned(0) && e[2].fields["sync_mode"] == .signed(1))
        #expect(e[2].fields["nr_to_write"] == .signed(Int64.max))
        #expect(e[3].fields["index"] == .unsigned(5))
        #expect(e[4].fields["dev"] == .device(DeviceNumber(major: 254, minor: 0)) && e[4].fields["error"] == .signed(-5))
    }

    /// A line in no kernel's format of its event still counts as unmatched.
    @Test func aLineInNoKernelsFormatIsUnmatched() throws {
        let (reader, _) = try read("""
                 python3-311   [001] .....   61.000001: block_rq_issue: 7,0 WS 4096 () 278840 + 8 sometimes [python3]

        """)
        #expect(reader.unmatchedFieldLines == 1)
    }
}
