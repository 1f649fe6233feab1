import CTrace
import Glibc

/// Opens a trace.dat with libtracecmd once in a child process, before the
/// reader opens it in this one.
///
/// Why: libtracecmd 3.1.6 and libtraceevent 1.7 crash on some damaged files
/// while opening them — libtraceevent's format parser dereferences NULL on
/// some malformed print formats (FuzzDatReader found one in minutes;
/// `trace-cmd report` crashes on it too), and libtracecmd's cleanup after a
/// failed buffer set-up walks uninitialised lists. The checks before the open
/// (`DatV6Truncation`, `DatV7Header`, `DatV7Chunks` and the header_page,
/// format, option and page checks they run) refuse every such damage the
/// in-process fuzz target has found; this probe stays as the net under them
/// for what no check foresees: if the child dies by a
/// signal, hangs, or ends any other way than "opened" or "refused", the file
/// is refused with one error instead of taking the caller down. The child
/// opens the file and each buffer instance, nothing else, and ends with
/// `_exit`; it runs only C between `fork` and `_exit` (see `start`). It runs while this
/// process makes those checks (`start`, the checks, then `finish`; a refused
/// file `cancel`s it), so on two cores they cost no time. A process that
/// installed `DatOpenGuard` (the `wbreplay` command) needs no probe: it opens
/// each file once and catches the crash in process. The fuzz target skips
/// both (`DatReader(path:openProbe: false)`) so that such crashes surface.
enum DatOpenProbe {
    /// Child exit statuses; anything else (a signal, a sanitizer's exit code) is a crash.
    private static let opened: Int32 = 0
    private static let refused: Int32 = 3
    /// A real file opens in well under a second; an open still running after
    /// this is stuck in a loop (here and in `DatOpenGuard`).
    static let limitSeconds: UInt32 = 60

    /// The refusals of a file libtracecmd crashed on or did not finish
    /// opening, as the probe and `DatOpenGuard` report them.
    static func crashed(_ path: String, signal: Int32) -> TraceError {
        .corrupt(path: path, reason: "libtracecmd crashes on it (signal \(signal) while opening: damaged trace.dat)")
    }

    static func hung(_ path: String) -> TraceError {
        .corrupt(path: path, reason: "libtracecmd does not finish opening it (damaged trace.dat)")
    }

    /// A probe under way: the child opening the file.
    struct Child {
        let pid: pid_t
        let path: String

        /// Waits for the child's verdict: returns if libtracecmd opened or
        /// refused the file (a refusal is reported by the open that follows,
        /// with its own error), throws if it crashed or hung.
        func finish() throws {
            var status: Int32 = 0
            let clock = ContinuousClock()
            let startedAt = clock.now
            var pause: UInt64 = 50_000
            while true {
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid { break }
                if r < 0, errno != EINTR { return }
                // Wall time: a sleep a signal cuts short must not count whole.
                if startedAt.duration(to: clock.now) > .seconds(limitSeconds) {
                    cancel()
                    throw hung(path)
                }
                var delay = timespec(tv_sec: 0, tv_nsec: Int(pause))
                nanosleep(&delay, nil)
                pause = min(pause * 2, 20_000_000)
            }
            let signalled = status & 0x7f
            if signalled == 0 {
                let code = (status >> 8) & 0xff
                if code == opened || code == refused { return }
                throw TraceError.corrupt(path: path, reason: "libtracecmd fails on it (exit \(code) while opening: damaged trace.dat)")
            }
            throw crashed(path, signal: signalled)
        }

        /// Stops the child whose verdict is no longer needed (a check in
        /// this process refused the file first) and reaps it.
        func cancel() {
            var status: Int32 = 0
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        }
    }

    /// Forks the child that opens `path`. The caller runs its own checks
    /// meanwhile — the child opens the file unchecked, but a crash there is
    /// the child's — and then asks `finish()` before opening it itself. The
    /// child is C from the fork to its `_exit` (`wbr_fork_open_probe`): a
    /// Swift one-time initialiser or metadata lookup there could wait for a
    /// lock another thread of this process held at the fork, for ever, and
    /// a real file would be refused as one libtracecmd does not finish opening.
    static func start(path: String, flags: Int32) throws -> Child {
        let pid = path.withCString { wbr_fork_open_probe($0, flags, opened, refused) }
        guard pid > 0 else {
            // Opening unchecked could take the caller down: refuse, saying why.
            throw TraceError.unreadable(path: path, reason: "cannot check it before opening (fork: \(String(cString: strerror(errno))))")
        }
        return Child(pid: pid, path: path)
    }
}
