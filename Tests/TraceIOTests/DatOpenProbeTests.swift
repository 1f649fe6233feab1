import CTrace
import Foundation
import Glibc
import Synchronization
import Testing
@testable import TraceIO

/// `DatOpenProbe` alone, without the checks before it: its child opens the
/// file with libtracecmd and the parent reads the verdict from how it ended.
@Suite struct DatOpenProbeTests {
    static let flags = Int32(TRACECMD_FL_LOAD_NO_PLUGINS.rawValue)

    /// Real files: libtracecmd opens them, the probe says nothing.
    @Test(arguments: ["punch_hole.dat", "freeze_mmap.dat", "fsync_unwritten.dat"])
    func aRealFileOpensInTheChild(name: String) throws {
        try DatOpenProbe.start(path: Samples.path(name), flags: Self.flags).finish()
    }

    /// Files that crash libtraceevent's format parser when nothing checks
    /// them first (`trace-cmd report` dies of the same signals): the child
    /// dies, the parent names the signal.
    @Test(arguments: [("dat-v7-format-crashes-libtraceevent.dat", SIGSEGV),
                      ("dat-v7-print-fmt-division-by-zero.dat", SIGFPE)])
    func aCrashInTheChildIsTheFilesRefusal(name: String, signal: Int32) throws {
        let path = Samples.fixture("fuzz/\(name)")
        #expect {
            try DatOpenProbe.start(path: path, flags: Self.flags).finish()
        } throws: { error in
            "\(error)" == "\(DatOpenProbe.crashed(path, signal: signal))"
        }
    }

    /// A file libtracecmd refuses without crashing (not a trace.dat at all)
    /// is left to the open that follows, which says why.
    @Test func aRefusalInTheChildIsLeftToTheOpen() throws {
        try DatOpenProbe.start(path: Samples.path("punch_hole.txt"), flags: Self.flags).finish()
    }

    /// Children forked from many threads at once, while the others start,
    /// wait for and reap theirs: each answers, none is taken for a hang.
    /// (A child that ran Swift could wait for ever on a lock a sibling
    /// thread held at the fork; this is the load under which one did.)
    @Test func probesForkedFromManyThreadsAllAnswer() throws {
        let paths = ["punch_hole.dat", "freeze_mmap.dat", "fsync_unwritten.dat"].map(Samples.path)
        let failures = Mutex<[String]>([])
        let done = DispatchGroup()
        for thread in 0..<8 {
            done.enter()
            Thread {
                for round in 0..<6 {
                    let path = paths[(thread + round) % paths.count]
                    do {
                        try DatOpenProbe.start(path: path, flags: Self.flags).finish()
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
                done.leave()
            }.start()
        }
        done.wait()
        #expect(failures.withLock { $0 } == [])
    }
}
