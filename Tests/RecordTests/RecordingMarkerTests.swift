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

@Suite struct CPUStatsTextTests {
    // As trace-cmd extract -B writes it (traces/*.dat), and as wbreplay record writes it.
    static let extract = "CPU: 0\nentries: 0\noverrun: 0\ncommit overrun: 0\nbytes: 0\ndropped events: 0\nread events: 0\nCPU: 1\nentries: 0\noverrun: 0\ncommit overrun: 0\nbytes: 0\ndropped events: 0\nread events: 0\n\nBuffer: cap\n\nCPU: 0\nentries: 0\noverrun: 7\ncommit overrun: 0\nbytes: 0\ndropped events: 0\nread events: 10536\nCPU: 1\nentries: 0\noverrun: 0\ncommit overrun: 0\nbytes: 0\ndropped events: 3\nread events: 28471\n"

    @Test func picksTheNamedBuffer() {
        let cap = CPUBufferStats.parseCPUStats(Self.extract, buffer: "cap")
        #expect(cap.map(\.cpu) == [0, 1])
        #expect(cap.map(\.lost) == [7, 3])
        #expect(cap.map(\.read) == [10536, 28471])
        let top = CPUBufferStats.parseCPUStats(Self.extract)
        #expect(top.map(\.read) == [0, 0])
        #expect(CPUBufferStats.parseCPUStats(Self.extract, buffer: "other").isEmpty)
    }

    @Test func readsTheMarkerFromAPrintEvent() {
        var fields = EventFields()
        fields.append("ip", .unsigned(0))
        fields.append("buf", .string("wbreplay-recording: preset=minimal dev=7:0\n"))
        let marker = TraceEvent(timestamp: 1, cpu: 0, pid: 1, comm: "wbreplay", name: "print", fields: fields)
        #expect(RecordingMarker.facts(in: marker)?["dev"] == "7:0")
        let text = TraceEvent(timestamp: 1, cpu: 0, pid: 1, comm: "x", name: "print",
                              rawText: "tracing_mark_write: wbreplay-recording: preset=full")
        #expect(RecordingMarker.facts(in: text)?["preset"] == "full")
        let other = TraceEvent(timestamp: 1, cpu: 0, pid: 1, comm: "x", name: "sys_enter_fsync",
                               rawText: "wbreplay-recording: preset=full")
        #expect(RecordingMarker.facts(in: other) == nil)
    }
}
