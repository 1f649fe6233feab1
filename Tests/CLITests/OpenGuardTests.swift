import Foundation
import Glibc
import Testing

/// `DatOpenGuard` in the CLI: a crash inside libtracecmd's open of a trace.dat
/// ends the command with one error line and exit 2, with each file opened once
/// (no probe child). The crashes are real: a preloaded library replaces a
/// libtracecmd entry point with one that faults, aborts or overflows its stack.
@Suite(.enabled(if: CLI.which("cc") != nil, "needs a C compiler (cc) to build the crashing libraries"))
struct OpenGuardTests {
    static let trace = CLI.trace("fsync_unwritten.dat")

    /// Builds `source` as a shared library and runs `wbreplay check` on the
    /// trace with it preloaded, without core dumps or the runtime's backtrace.
    func check(preloading source: String, timeLimit: Double = GuardedRun.limitSeconds) throws -> CLIResult {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("crash.c")
        let library = dir.appendingPathComponent("crash.so")
        try source.write(to: file, atomically: true, encoding: .utf8)
        let built = try GuardedRun.run([CLI.which("cc")!, "-O0", "-shared", "-fPIC", "-o", library.path, file.path])
        try #require(built.status == 0, "cc: \(built.stderr)")
        // (/usr/bin/python3 itself: a python3 earlier on PATH may be a shell script.)
        let launcher = """
            import os, resource, sys
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            os.environ["LD_PRELOAD"] = sys.argv[1]
            os.environ["SWIFT_BACKTRACE"] = "enable=no"
            os.execv(sys.argv[2], sys.argv[2:])
            """
        return try CLI.run(executable: URL(fileURLWithPath: "/usr/bin/python3"),
                           ["-c", launcher, library.path, CLI.binary.path, "check", Self.trace], timeLimit: timeLimit)
    }

    func expectRefused(_ r: CLIResult, signal: Int32, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!r.killedBySignal && !r.timedOut, "ended by signal \(r.status)", sourceLocation: sourceLocation)
        #expect(r.status == 2, sourceLocation: sourceLocation)
        #expect(r.stderr == "wbreplay: error: \(Self.trace): corrupt trace: libtracecmd crashes on it (signal \(signal) while opening: damaged trace.dat)\n",
                sourceLocation: sourceLocation)
    }

    @Test func aFaultInTheOpenIsOneErrorLine() throws {
        expectRefused(try check(preloading: """
            void *tracecmd_open(const char *file, int flags) { return *(void *volatile *)0; }
            """), signal: SIGSEGV)
    }

    /// glibc's answer to a double free.
    @Test func anAbortInTheOpenIsOneErrorLine() throws {
        expectRefused(try check(preloading: """
            #include <stdlib.h>
            void *tracecmd_open(const char *file, int flags) { abort(); }
            """), signal: SIGABRT)
    }

    /// A parser recursing without end: the handler runs on a stack of its own.
    @Test func aStackOverflowInTheOpenIsOneErrorLine() throws {
        expectRefused(try check(preloading: """
            static int deeper(volatile char *up) { volatile char frame[512]; frame[0] = up[0]; return deeper(frame) + frame[1]; }
            void *tracecmd_open(const char *file, int flags) { char top[1] = {0}; deeper(top); return 0; }
            """), signal: SIGSEGV)
    }

    /// An open that never ends is refused after the guard's minute (this
    /// test takes that minute).
    @Test func anOpenThatHangsIsOneErrorLine() throws {
        let r = try check(preloading: """
            #include <unistd.h>
            void *tracecmd_open(const char *file, int flags) { for (;;) pause(); }
            """, timeLimit: 150)
        #expect(!r.killedBySignal && !r.timedOut, "ended by signal \(r.status)")
        #expect(r.status == 2)
        #expect(r.stderr == "wbreplay: error: \(Self.trace): corrupt trace: libtracecmd does not finish opening it (damaged trace.dat)\n")
    }

    /// Negative: a crash after the open (reading the recording machine's
    /// uname, which only wbreplay asks for) is not the file's damage — it
    /// stays a crash.
    @Test func aCrashAfterTheOpenStaysACrash() throws {
        let r = try check(preloading: """
            const char *tracecmd_get_uname(void *handle) { return *(const char *volatile *)0; }
            """)
        #expect(r.killedBySignal, "exit \(r.status): \(r.stderr)")
        #expect(r.status == SIGSEGV)
        #expect(!r.stderr.contains("corrupt trace"))
    }

    /// And without a preload the same file is read.
    @Test func theFileOpensWithoutThem() throws {
        let r = try CLI.run(["check", Self.trace])
        #expect(r.status != 2, "\(r.stderr)")
        #expect(!r.killedBySignal)
    }
}
