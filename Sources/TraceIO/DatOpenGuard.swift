import CTrace
import Glibc

/// Guards libtracecmd's open of a trace.dat inside this process, for a
/// program that would rather not open every file twice: while the open runs,
/// a crash signal on the opening thread (or the open still running after a
/// minute) ends the process with one error line on standard error and exit
/// status 2, the line the program chose when it installed the guard.
///
/// Why: `DatOpenProbe` opens every file in a child before this process
/// opens it, and that second whole open (the event formats and the saved
/// kallsyms: about 0.15 s of CPU on the benchmark trace) lies on the path to
/// the first record of every command. The guard makes the same promise for
/// the crashes the probe exists for (a NULL dereference in libtraceevent's
/// format parser, glibc's abort on a double free: see `DatOpenProbe`) with
/// one open. Its handler only writes bytes formatted before the open and
/// calls `_exit`, on a stack of its own (a parser recursing without end
/// overflows the thread's stack). A crash on another thread during the open
/// ends the process by the signal's default action, and outside an open the
/// handlers that were there before are back: a crash elsewhere stays a crash.
/// What it cannot see, the probe did not see either: damage that crashes only
/// after the open. A library caller that installs no
/// guard keeps the probe; the fuzz target has neither, so crashes surface.
/// (Running the command in a forked child instead is not an option: after a
/// `fork` without `exec` the Swift runtime's locks keep the parent's thread
/// id, and the child's first contended one-time initialisation spins.)
public enum DatOpenGuard {
    /// Signals a crash raises, and last the alarm of an open that does not
    /// finish; each has a prepared line, in this order.
    private static let signals: [Int32] = [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP, SIGALRM]
    private static let altStackSize = 256 << 10

    /// Installs the guard for every later open in this process; `line`
    /// makes the whole line (newline included) for the error of a file whose
    /// open crashed. Call it once, before the first open.
    public static func install(line: @escaping @Sendable (TraceError) -> String) {
        guard guardState == nil else { return }
        let state = UnsafeMutablePointer<GuardState>.allocate(capacity: 1)
        state.initialize(to: GuardState(signals: signals))
        formatLine = line
        guardState = state
    }

    /// Whether opens in this process are guarded (and so need no probe).
    static var isInstalled: Bool { guardState != nil }

    /// Runs `body`, a libtracecmd open of `path`, guarded when the guard is
    /// installed. Opens are serialised (DatHandle's lock): one at a time.
    static func opening<T>(_ path: String, _ body: () throws -> T) rethrows -> T {
        guard let state = guardState, let formatLine else { return try body() }
        prepareLines(state, path: path, formatLine: formatLine)
        let altStack = UnsafeMutableRawPointer.allocate(byteCount: altStackSize, alignment: 16)
        var stack = stack_t(ss_sp: altStack, ss_flags: 0, ss_size: altStackSize)
        var previousStack = stack_t()
        let ownStack = sigaltstack(&stack, &previousStack) == 0
        // Delivered here even when the process was started with them blocked
        // (a launcher's threads often block most signals, and children inherit that).
        var guarded = sigset_t()
        sigemptyset(&guarded)
        for signal in signals { sigaddset(&guarded, signal) }
        var previousMask = sigset_t()
        pthread_sigmask(SIG_UNBLOCK, &guarded, &previousMask)
        var previous: [(Int32, sigaction)] = []
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = guardHandler
            action.sa_flags = Int32(SA_ONSTACK)
            var old = sigaction()
            if sigaction(signal, &action, &old) == 0 { previous.append((signal, old)) }
        }
        wbr_store_thread(state.pointee.thread, wbr_gettid())
        alarm(DatOpenProbe.limitSeconds)
        defer {
            alarm(0)
            wbr_store_thread(state.pointee.thread, 0)
            for (signal, old) in previous {
                var restored = old
                sigaction(signal, &restored, nil)
            }
            pthread_sigmask(SIG_SETMASK, &previousMask, nil)
            if ownStack {
                sigaltstack(&previousStack, nil)
            }
            altStack.deallocate()
        }
        return try body()
    }

    /// The lines the handler may write for this open: one per crash signal,
    /// and for the alarm the one of an open that does not finish.
    private static func prepareLines(_ state: UnsafeMutablePointer<GuardState>, path: String, formatLine: (TraceError) -> String) {
        for (slot, signal) in signals.enumerated() {
            let error = signal == SIGALRM ? DatOpenProbe.hung(path) : DatOpenProbe.crashed(path, signal: signal)
            state.pointee.setLine(slot, formatLine(error))
        }
    }

    nonisolated(unsafe) private static var formatLine: (@Sendable (TraceError) -> String)?
}

/// What the handler reads: the opening thread's id (0 outside an open), the
/// slot of each guarded signal's line and the prepared lines, in memory that
/// no Swift reference counts (the handler may run in the middle of an
/// allocation).
struct GuardState {
    static let lineCapacity = 8192
    /// Signal numbers are below 65 (`_NSIG`).
    private static let signalCount = 65
    let thread = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    /// By signal number: the slot of its line, -1 for a signal not guarded.
    let slotOfSignal = UnsafeMutablePointer<Int8>.allocate(capacity: signalCount)
    let lines: UnsafeMutablePointer<UInt8>
    let lengths: UnsafeMutablePointer<Int>

    init(signals: [Int32]) {
        thread.initialize(to: 0)
        slotOfSignal.initialize(repeating: -1, count: Self.signalCount)
        for (slot, signal) in signals.enumerated() { slotOfSignal[Int(signal)] = Int8(slot) }
        lines = .allocate(capacity: signals.count * Self.lineCapacity)
        lengths = .allocate(capacity: signals.count)
        lengths.initialize(repeating: 0, count: signals.count)
    }

    /// The slot of `signal`'s line, nil for a signal not guarded.
    func slot(of signal: Int32) -> Int? {
        guard signal > 0, signal < Int32(Self.signalCount) else { return nil }
        let slot = slotOfSignal[Int(signal)]
        return slot < 0 ? nil : Int(slot)
    }

    func setLine(_ slot: Int, _ line: String) {
        let bytes = Array(line.utf8.prefix(Self.lineCapacity))
        (lines + slot * Self.lineCapacity).update(from: bytes, count: bytes.count)
        lengths[slot] = bytes.count
    }
}

/// Set once by `install`, before any open.
nonisolated(unsafe) private var guardState: UnsafeMutablePointer<GuardState>?

/// On the opening thread during an open: write the prepared line, exit 2.
/// On another thread: fall back to the default action, so that the signal
/// ends the process as a crash (a fault re-raises when the handler returns).
private let guardHandler: @convention(c) (Int32) -> Void = { signal in
    guard let state = guardState, let slot = state.pointee.slot(of: signal) else { return }
    let opening = wbr_load_thread(state.pointee.thread)
    let mine = signal == SIGALRM ? opening != 0 : opening == wbr_gettid()
    guard mine else {
        Glibc.signal(signal, SIG_DFL)
        return
    }
    _ = write(2, state.pointee.lines + slot * GuardState.lineCapacity, state.pointee.lengths[slot])
    _exit(2)
}
