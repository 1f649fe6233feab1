import Glibc

/// How the traced command ended.
public enum CommandStatus: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)

    /// The shell's convention: the exit code, or 128 + the signal.
    public var shellExitCode: Int32 {
        switch self {
        case .exited(let code): return code
        case .signaled(let sig): return 128 + sig
        }
    }
}

/// The command being traced, started with `posix_spawnp`.
///
/// The recorder ignores SIGINT and SIGTERM itself (it stops on them), and an
/// ignored signal stays ignored across exec; the child gets the default
/// actions back (`POSIX_SPAWN_SETSIGDEF`) and an empty signal mask, so Ctrl-C
/// stops it as it would without the recorder.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private var status: CommandStatus?
    private let lock = PThreadMutex()

    init(command: [String]) throws {
        precondition(!command.isEmpty)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, command[0], nil, &attr, argv, environ)
        guard rc == 0 else {
            throw RecordError.commandFailed(command: command[0], reason: String(cString: strerror(rc)))
        }
        self.pid = pid
    }

    /// Blocks until the command ends (call on a thread of its own).
    func wait() -> CommandStatus {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 {
            if errno != EINTR { break }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
        let result: CommandStatus = (raw & 0x7F) == 0 ? .exited((raw >> 8) & 0xFF) : .signaled(raw & 0x7F)
        lock.withLock { status = result }
        return result
    }

    var finished: CommandStatus? { lock.withLock { status } }

    func signal(_ sig: Int32) {
        if finished == nil { kill(pid, sig) }
    }
}

/// A pthread mutex, so this file needs no Foundation.
final class PThreadMutex: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
