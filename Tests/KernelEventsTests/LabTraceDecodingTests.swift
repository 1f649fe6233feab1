import Foundation
import Testing
import TraceIO
@testable import KernelEvents

/// The kernel lab's recordings (traces/kernels/RELEASE/, `make lab`): each
/// kernel's own names and layouts decode to the typed events the replay uses.
private enum LabTraces {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("traces/kernels")

    /// Releases that ship RECORDING (CONFIG/WORKLOAD.dat), oldest first.
    static func releases(with recording: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: path($0, recording)) }
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
    }

    static func path(_ release: String, _ recording: String) -> String {
        directory.appendingPathComponent("\(release)/\(recording).dat").path
    }

    /// Every event of a file with its typed decoding.
    static func decode(_ path: String) throws -> (events: [(TraceEvent, KernelEvent)], decoder: KernelEventDecoder) {
        var decoder = KernelEventDecoder()
        var events: [(TraceEvent, KernelEvent)] = []
        try TraceFile.open(path: path).forEach(ReadOptions()) { record in
            if case .event(let event) = record { events.append((event, decoder.decode(event))) }
        }
        return (events, decoder)
    }

    /// `trace-cmd report -t` of `dat` in a temporary file.
    static func report(_ dat: String) throws -> String {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("wbr-lab-\(getpid())-\(UUID().uuidString).txt")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["trace-cmd", "report", "-t", dat]
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        try #require(process.terminationStatus == 0, "trace-cmd report \(dat)")
        return out.path
    }
}

@Suite struct LabTraceDecodingTests {
    static let unwritten = LabTraces.releases(with: "default/fsync_unwritten")
    static let eio = LabTraces.releases(with: "eio/dm-fsync")

    @Test func theLabShipsEveryKernel() {
        #expect(Self.unwritten.count >= 5, "\(Self.unwritten)")
        #expect(Self.eio.count >= 4, "\(Self.eio)")
    }

    /// Buffered writes into unwritten extents with fsync: io_ends (6.18's
    /// ext4_da_write_folios_start or the older ext4_da_write_pages), dirtying
    /// (writeback_dirty_folio or ≤ 5.16's writeback_dirty_page), request
    /// completions and the fsync are typed on every kernel, with no field missing.
    @Test(arguments: unwritten)
    func writebackOfUnwrittenExtentsIsTyped(release: String) throws {
        let (events, decoder) = try LabTraces.decode(LabTraces.path(release, "default/fsync_unwritten"))
        var ioEnds = 0, dirtied = 0, completed = 0, fsyncs = 0, conversions = 0
        for (event, typed) in events {
            switch typed {
            case .ext4(.writeFoliosStart(let inode, let startPos, _)):
                ioEnds += 1
                if event.name == "ext4_da_write_pages" {
                    #expect(startPos == (event.fields["first_page"]?.uint64 ?? .max) &* 4096)
                    #expect(inode.ino == event.fields["ino"]?.uint64)
                }
            case .writeback(.dirtyFolio): dirtied += 1
            case .block(.requestComplete): completed += 1
            case .ext4(.syncFileEnter): fsyncs += 1
            case .ext4(.handleUnwritten(_, let flags, _)) where flags.contains(.convert): conversions += 1
            case .other(let e) where ["ext4_da_write_pages", "writeback_dirty_page", "writeback_dirty_folio",
                                      "ext4_da_write_folios_start", "block_rq_complete"].contains(e.name):
                Issue.record("\(release): \(e.name) left untyped")
            default: break
            }
        }
        #expect(ioEnds > 0 && dirtied > 0 && completed > 0 && fsyncs >= 2 && conversions > 0,
                "\(release): io_ends \(ioEnds), dirtied \(dirtied), completed \(completed), fsyncs \(fsyncs), conversions \(conversions)")
        #expect(decoder.diagnostics.isEmpty, "\(release): \(decoder.diagnostics.entries)")
    }

    /// The text twin (`trace-cmd report -t`, the kernel's print formats)
    /// decodes to the same typed events as the trace.dat, per CPU in order.
    @Test(arguments: unwritten)
    func textTwinTypesTheSameEvents(release: String) throws {
        let dat = LabTraces.path(release, "default/fsync_unwritten")
        let text = try LabTraces.report(dat)
        defer { try? FileManager.default.removeItem(atPath: text) }
        func typedByCPU(_ path: String) throws -> [Int: [String]] {
            var byCPU: [Int: [String]] = [:]
            for (event, typed) in try LabTraces.decode(path).events {
                if case .other = typed { continue }
                byCPU[event.cpu, default: []].append("\(typed)")
            }
            return byCPU
        }
        let fromDat = try typedByCPU(dat)
        let fromText = try typedByCPU(text)
        #expect(fromDat.values.map(\.count).reduce(0, +) > 1000)
        for (cpu, typed) in fromDat {
            let other = fromText[cpu] ?? []
            #expect(typed.count == other.count, "\(release) cpu \(cpu)")
            if let i = zip(typed, other).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                Issue.record("\(release) cpu \(cpu) event \(i): \(typed[i]) vs text \(other[i])")
            }
        }
    }

    /// A device-mapper `error` target under the file's data: the dm device is
    /// bio-based and completes with block_bio_complete only, carrying the EIO.
    @Test(arguments: eio)
    func bioBasedDeviceCompletesWithTheError(release: String) throws {
        let (events, _) = try LabTraces.decode(LabTraces.path(release, "eio/dm-fsync"))
        var failed: Set<DeviceNumber> = []
        var requestDevices: Set<DeviceNumber> = []
        for (_, typed) in events {
            if case .block(.bioComplete(let io, let error)) = typed, error == -5 { failed.insert(io.range.dev) }
            if case .block(.requestComplete(let io, _)) = typed { requestDevices.insert(io.range.dev) }
        }
        #expect(!failed.isEmpty, "\(release): no block_bio_complete with -5")
        #expect(failed.isDisjoint(with: requestDevices), "\(release): the dm device completed requests")
    }
}
