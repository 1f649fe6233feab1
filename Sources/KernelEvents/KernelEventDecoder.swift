import TraceIO

/// Decodes `TraceEvent`s into `KernelEvent`s, the same from either reader.
/// A known event whose format lacks a needed field decodes to `.other` and
/// leaves one `Diagnostic` per event name and missing field.
public struct KernelEventDecoder: Sendable {
    public private(set) var diagnostics = DiagnosticLog()

    public init() {}

    /// The event names this decoder turns into typed values.
    public static var knownEventNames: Set<String> { Set(DecoderTable.decoders.keys) }

    /// Every field name the decoder reads, for `ReadOptions.fields`: a reader
    /// that decodes only these does all the work the typed events need.
    /// Collected by running each decoder once, so it cannot fall out of date.
    public static let fieldsUsed: Set<String> = {
        var all: Set<String> = ["fd", "cmd", "offset", "len", "pos", "count", "nbytes", "length", "ret"]
        let probe = TraceEvent(timestamp: 0, cpu: 0, pid: 0, comm: "", name: "")
        for decode in DecoderTable.decoders.values {
            var reader = FieldReader(probe)
            reader.requested = []
            _ = decode(&reader)
            all.formUnion(reader.requested ?? [])
        }
        return all
    }()

    public mutating func decode(_ event: TraceEvent) -> KernelEvent {
        if let syscall = decodeSyscall(event) { return syscall }
        guard let decode = DecoderTable.decoders[event.name] else { return .other(event) }
        var reader = FieldReader(event)
        let typed = decode(&reader)
        if let missing = reader.missing {
            diagnostics.warn(event.name, "no field \(missing) in this format; event left undecoded")
            return .other(event)
        }
        return typed
    }

    /// `sys_enter_NAME` / `sys_exit_NAME` (the text reader renames
    /// `sys_NAME(...)` / `sys_NAME -> ret` to these).
    private mutating func decodeSyscall(_ event: TraceEvent) -> KernelEvent? {
        let name = event.name
        guard name.hasPrefix("sys_e") else { return nil }
        if name.hasPrefix("sys_enter_") {
            let call = Syscall(name: String(name.dropFirst("sys_enter_".count)))
            let f = event.fields
            var args = SyscallArguments(fd: f.int("fd"))
            switch call {
            case .ioctl:
                guard let cmd = f.uint("cmd") else {
                    diagnostics.warn(name, "no field cmd in this format; event left undecoded")
                    return .other(event)
                }
                args.ioctl = IoctlCommand(raw: cmd)
            case .fallocate:
                args.offset = f.int("offset")
                args.length = f.int("len")
            case .pwrite64:
                args.offset = f.int("pos")
                args.length = f.int("count")
            case .syncFileRange:
                args.offset = f.int("offset")
                args.length = f.int("nbytes")
            case .ftruncate:
                args.length = f.int("length")
            default:
                break
            }
            return .syscall(.enter(call, arguments: args))
        }
        if name.hasPrefix("sys_exit_") {
            let call = Syscall(name: String(name.dropFirst("sys_exit_".count)))
            guard let ret = event.fields.int("ret") ?? event.fields.uint("ret").map({ Int64(bitPattern: $0) }) else {
                diagnostics.warn(name, "no field ret in this format; event left undecoded")
                return .other(event)
            }
            return .syscall(.exit(call, ret: ret))
        }
        return nil
    }
}
