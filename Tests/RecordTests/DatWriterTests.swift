import Foundation
import Testing
@testable import TraceIO

/// The writer's layout, checked with an independent reading of the format
/// (man 5 trace-cmd.dat.v7); the live tests check that trace-cmd reads real recordings.
@Suite struct DatWriterTests {
    func makeFile(pages: [[UInt8]]) throws -> (path: String, bytes: [UInt8], dir: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wbr-datw-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var cpuFiles: [RingBufferStreamer.CPUFile] = []
        for (cpu, page) in pages.enumerated() {
            let p = dir.appendingPathComponent("cpu\(cpu)").path
            _ = FileManager.default.createFile(atPath: p, contents: Data(page))
            cpuFiles.append(.init(cpu: cpu, path: p, size: page.count))
        }
        let contents = DatContents(
            pageSize: 4096, headerPage: Array("field: u64 timestamp;\n".utf8), headerEvent: Array("# header\n".utf8),
            ftraceFormats: [Array("name: print\nID: 5\n".utf8)],
            eventSystems: [("ext4", [Array("name: ext4_a\nID: 900\n".utf8), Array("name: ext4_b\nID: 901\n".utf8)])],
            kallsyms: Array("ffffffff81000000 T _stext\n".utf8), printkFormats: [], cmdlines: Array("1 init\n".utf8),
            traceClockFile: "local [mono]\n", clock: "mono", uname: "Linux host 6.18 x86_64", version: "wbreplay test",
            cpuCount: pages.count, bufferName: "wbreplay",
            cpuStats: pages.indices.map { ($0, "CPU: \($0)\nentries: 0\noverrun: 5\n") }, cpuFiles: cpuFiles, traceID: 42)
        let out = dir.appendingPathComponent("t.dat").path
        try DatWriter(contents: contents).write(to: out)
        return (out, Array(try Data(contentsOf: URL(fileURLWithPath: out))), dir)
    }

    func u16(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
    func u32(_ b: [UInt8], _ o: Int) -> Int { u16(b, o) | u16(b, o + 2) << 16 }
    func u64(_ b: [UInt8], _ o: Int) -> Int { u32(b, o) | u32(b, o + 4) << 32 }
    func cstr(_ b: [UInt8], _ o: Int) -> String { String(decoding: b[o...].prefix { $0 != 0 }, as: UTF8.self) }

    /// All options of the file, following the DONE chain from the header.
    func options(_ b: [UInt8]) -> [(id: Int, data: ArraySlice<UInt8>)] {
        var o = 10 + 2 + 2 + 4
        o += cstr(b, o).utf8.count + 1
        o += cstr(b, o).utf8.count + 1
        var section = u64(b, o)
        var result: [(Int, ArraySlice<UInt8>)] = []
        while section != 0 {
            #expect(u16(b, section) == 0)
            var p = section + 16
            section = 0
            while true {
                let id = u16(b, p), size = u32(b, p + 2)
                let data = b[(p + 6)..<(p + 6 + size)]
                result.append((id, data))
                p += 6 + size
                if id == 0 { section = u64(Array(data), 0); break }
            }
        }
        return result
    }

    @Test func writesAValidV7Layout() throws {
        let page0 = [UInt8](repeating: 0xAB, count: 4096)
        let page1 = [UInt8](repeating: 0xCD, count: 8192)
        let (_, b, dir) = try makeFile(pages: [page0, page1])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(FormatDetection.detect(head: Array(b.prefix(64))) == .traceDat(version: 7))
        #expect(cstr(b, 14 + 4) == "none")
        let opts = options(b)
        let ids = opts.map(\.id)
        for required in [16, 17, 18, 19, 20, 21, 4, 5, 8, 3] { #expect(ids.contains(required)) }
        #expect(opts.filter { $0.id == 2 }.count == 3) // the Buffer: line and one per CPU
        let uname = opts.first { $0.id == 5 }!.data
        #expect(cstr(Array(uname), 0) == "Linux host 6.18 x86_64")

        let buffer = Array(opts.first { $0.id == 3 }!.data)
        let fly = u64(buffer, 0)
        #expect(u16(b, fly) == 3)
        #expect(cstr(buffer, 8) == "wbreplay")
        var p = 8 + "wbreplay".utf8.count + 1
        #expect(cstr(buffer, p) == "mono")
        p += 5
        #expect(u32(buffer, p) == 4096)
        #expect(u32(buffer, p + 4) == 2)
        p += 8
        for (cpu, page) in [page0, page1].enumerated() {
            #expect(u32(buffer, p) == cpu)
            let off = u64(buffer, p + 4), size = u64(buffer, p + 12)
            #expect(off % 4096 == 0)
            #expect(size == page.count)
            #expect(Array(b[off..<(off + size)]) == page)
            p += 20
        }
        // Every metadata pointer lands on a section of the matching id.
        for opt in opts where (16...21).contains(opt.id) {
            #expect(u16(b, u64(Array(opt.data), 0)) == opt.id)
        }
    }

    @Test func leavesNoPartialFileOnFailure() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wbr-datw-missing-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let contents = DatContents(
            pageSize: 4096, headerPage: [], headerEvent: [], ftraceFormats: [], eventSystems: [], kallsyms: [],
            printkFormats: [], cmdlines: [], traceClockFile: "", clock: "mono", uname: "", version: "",
            cpuCount: 1, bufferName: "wbreplay", cpuStats: [],
            cpuFiles: [.init(cpu: 0, path: dir.appendingPathComponent("gone").path, size: 4096)], traceID: 1)
        let out = dir.appendingPathComponent("t.dat").path
        #expect(throws: RecordError.self) { try DatWriter(contents: contents).write(to: out) }
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(!FileManager.default.fileExists(atPath: out + ".part"))
    }
}
