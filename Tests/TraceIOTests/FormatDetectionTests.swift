import Foundation
import Testing
@testable import TraceIO

@Suite struct FormatDetectionTests {
    @Test(arguments: Samples.pairNames)
    func detectsSamplePairs(name: String) throws {
        #expect(try FormatDetection.detect(path: Samples.path(name + ".dat")) == .traceDat(version: 7))
        #expect(try FormatDetection.detect(path: Samples.path(name + ".txt")) == .ftraceText)
    }

    @Test func shipsSampleTraces() {
        #expect(Samples.pairNames.count >= 7)
    }

    @Test func detectsReportOutputWithInstancePrefix() {
        let text = """
        cpus=2
        cap:          python3-4739  [000]   518.460280532: sys_enter_ioctl:      fd: 0x00000002
        cap:          python3-4739  [000]   518.460284137: sys_exit_ioctl:       0xffffffffffffffe7

        """
        #expect(FormatDetection.detect(head: Array(text.utf8)) == .traceCmdReport)
    }

    @Test func rejectsNonTraces() {
        #expect(FormatDetection.detect(head: Array("hello world\nthis is not a trace\n".utf8)) == nil)
        #expect(FormatDetection.detect(head: [0x7F, 0x45, 0x4C, 0x46, 0, 1, 2]) == nil)
    }

    @Test func reportsMissingEmptyAndDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wbr-detect-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = dir.appendingPathComponent("empty.dat")
        FileManager.default.createFile(atPath: empty.path, contents: Data())
        #expect(throws: TraceError.empty(path: empty.path)) { try FormatDetection.detect(path: empty.path) }
        #expect(throws: TraceError.isDirectory(path: dir.path)) { try FormatDetection.detect(path: dir.path) }
        let missing = dir.appendingPathComponent("missing.dat").path
        #expect(throws: TraceError.notFound(path: missing)) { try FormatDetection.detect(path: missing) }
    }
}
