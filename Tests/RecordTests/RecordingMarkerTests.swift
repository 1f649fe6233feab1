import Testing
@testable import TraceIO

@Suite struct RecordingMarkerTests {
    @Test func roundTrips() {
        let text = RecordingMarker.text([("preset", "writeback"), ("dev", "7:0"), ("block_size", "4096"),
                                         ("stable_writes", "0"), ("clock", "mono"), ("version", "0.1.0")])
        #expect(text == "wbreplay-recording: preset=writeback dev=7:0 block_size=4096 stable_writes=0 clock=mono version=0.1.0")
        #expect(RecordingMarker.parse(text) == ["preset": "writeback", "dev": "7:0", "block_size": "4096",
                                                "stable_writes": "0", "clock": "mono", "version": "0.1.0"])
    }

    @Test func readsTheMarkerFromAPrintedLine() {
        let line = "wbreplay:  wbreplay-18297 [001]  1982.072078: print:   tracing_mark_write: wbreplay-recording: preset=full dev=8:1 disk=8:0 clock=global\n"
        #expect(RecordingMarker.parse(line) == ["preset": "full", "dev": "8:1", "disk": "8:0", "clock": "global"])
    }

    @Test func ignoresOtherText() {
        #expect(RecordingMarker.parse("tracing_mark_write: hello world") == nil)
        #expect(RecordingMarker.parse("") == nil)
    }

    @Test func valuesNeverSplit() {
        let text = RecordingMarker.text([("note", "two words")])
        #expect(RecordingMarker.parse(text) == ["note": "two_words"])
    }

    @Test func parsesCPUStats() {
        let text = "entries: 3\noverrun: 10\ncommit overrun: 1\nbytes: 4096\noldest event ts:  1966.681553\nnow ts:  1966.896920\ndropped events: 2\nread events: 110\n"
        let s = CPUBufferStats(cpu: 1, text: text)
        #expect(s.entries == 3 && s.overrun == 10 && s.commitOverrun == 1 && s.dropped == 2 && s.read == 110)
        #expect(s.lost == 13)
        #expect(s.recorded == 113)
        let empty = CPUBufferStats(cpu: 0, text: "")
        #expect(empty.lost == 0 && empty.recorded == 0)
    }
}
