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

    /// The fields each event needs, for `ReadOptions.fields`: the typed
    /// events' own (collected like `fieldsUsed`) and the syscalls'; a reader
    /// given this decodes no field of an event that decodes to `.other`.
    public static let fieldsByEvent: EventFieldMap = {
        var exact: [String: Set<String>] = [:]
        let probe = TraceEvent(timestamp: 0, cpu: 0, pid: 0, comm: "", name: "")
        for (name, decode) in DecoderTable.decoders {
            var reader = FieldReader(probe)
            reader.requested = []
            _ = decode(&reader)
            exact[name] = reader.requested ?? []
        }
        return EventFieldMap(exact: exact, prefixes: [
            ("sys_enter_", ["fd", "cmd", "offset", "len", "pos", "count", "nbytes", "length"]),
            ("sys_exit_", ["ret"]),
        ])
    }()

    /// What decoding an event of one format comes to, found once per
    /// `TraceEvent.formatID` instead of hashing the name of every event.
    private enum Plan {
        case enter(Syscall)
        case exit(Syscall)
        case table(DecoderTable.Decode)
        case untyped
    }
    private var plans = FormatCache<Plan>()

    private mutating func plan(for event: TraceEvent) -> Plan {
        if let known = plans.value(for: event) { return known }
        let plan: Plan
        if event.name.hasPrefix("sys_enter_") {
            plan = .enter(Syscall(name: String(event.name.dropFirst("sys_enter_".count))))
        } else if event.name.hasPrefix("sys_exit_") {
            plan = .exit(Syscall(name: String(event.name.dropFirst("sys_exit_".count))))
        } else if let decode = DecoderTable.decoders[event.name] {
            plan = .table(decode)
        } else {
            plan = .untyped
        }
        plans.store(plan, for: event)
        return plan
    }

    public mutating func decode(_ event: TraceEvent) -> KernelEvent {
        let decode: DecoderTable.Decode
        switch plan(for: event) {
        case .untyped: return .other(event)
        case .enter(let call): return enter(call, event)
        case .exit(let call): return exit(call, event)
        case .table(let d): decode = d
        }
        var reader = FieldReader(event)
        let typed = decode(&reader)
        if let missing = reader.missing {
            diagnostics.warn(event.name, "no field \(missing) in this format; event left undecoded")
            return .other(event)
        }
        return typed
    }

    /// `sys_enter_NAME` (the text reader renames `sys_NAME(...)` to it).
    private mutating func enter(_ call: Syscall, _ event: TraceEvent) -> KernelEvent {
        let f = event.fields
        var args = SyscallArguments(fd: f.int("fd"))
        switch call {
        case .ioctl:
            guard let cmd = f.uint("cmd") else {
                diagnostics.warn(event.name, "no field cmd in this format; event left undecoded")
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

    /// `sys_exit_NAME` (the text reader renames `sys_NAME -> ret` to it).
    private mutating func exit(_ call: Syscall, _ event: TraceEvent) -> KernelEvent {
        guard let ret = event.fields.int("ret") ?? event.fields.uint("ret").map({ Int64(bitPattern: $0) }) else {
            diagnostics.warn(event.name, "no field ret in this format; event left undecoded")
            return .other(event)
        }
        return .syscall(.exit(call, ret: ret))
    }
}
