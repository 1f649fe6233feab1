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
    /// `TraceEvent.formatID` instead of hashing the name of every event. A
    /// typed plan has a slot in `scripts`, for where a reader's views of
    /// the format keep the fields it reads.
    private enum Plan {
        case enter(Syscall, script: Int)
        case exit(Syscall, script: Int)
        case table(DecoderTable.Entry, script: Int)
        case untyped

        /// The plan's slot in `scripts`; nil for an untyped plan.
        var script: Int? {
            switch self {
            case .enter(_, let s), .exit(_, let s), .table(_, let s): return s
            case .untyped: return nil
            }
        }
    }
    private var plans = FormatCache<Plan>()
    /// By `Plan.script`: for the latest layout of views seen of that format.
    private var scripts: [FieldLookupScript] = []

    /// The plan of `event`'s format, made on first sight.
    private mutating func plan(for event: TraceEvent) -> Plan {
        if let known = plans.value(for: event) { return known }
        let plan = newPlan(name: event.name)
        plans.store(plan, for: event)
        return plan
    }

    /// The plan of `view`'s format, made on first sight.
    private mutating func plan(for view: EventView) -> Plan {
        if let known = plans.value(for: view) { return known }
        let plan = newPlan(name: view.name)
        plans.store(plan, for: view)
        return plan
    }

    /// The plan for events called `name`, with a new script slot if typed.
    private mutating func newPlan(name: String) -> Plan {
        let script = scripts.count
        let plan: Plan
        if name.hasPrefix("sys_enter_") {
            plan = .enter(Syscall(name: String(name.dropFirst("sys_enter_".count))), script: script)
        } else if name.hasPrefix("sys_exit_") {
            plan = .exit(Syscall(name: String(name.dropFirst("sys_exit_".count))), script: script)
        } else if let decode = DecoderTable.decoders[name] {
            plan = .table(decode, script: script)
        } else {
            return .untyped
        }
        scripts.append(FieldLookupScript(layout: nil))
        return plan
    }

    public mutating func decode(_ event: TraceEvent) -> KernelEvent {
        let plan = plan(for: event)
        if case .untyped = plan { return .other(event) }
        var reader = FieldReader(event)
        guard let typed = Self.typed(plan, &reader) else { return .other(event) }
        switch typed {
        case .success(let typed): return typed
        case .failure(let problem):
            diagnostics.warn(event.name, problem.message)
            return .other(event)
        }
    }

    /// The same as `decode(view.event())`, reading only the fields it needs.
    public mutating func decode(_ view: EventView) -> KernelEvent {
        decodeTyped(view) ?? .other(view.event())
    }

    /// The typed event of `view`; nil where `decode` gives `.other` (an event
    /// this decoder does not type, or one whose format lacks a field it needs,
    /// diagnosed as `decode` does), without building the `TraceEvent`.
    public mutating func decodeTyped(_ view: EventView) -> KernelEvent? {
        let plan = plan(for: view)
        guard let slot = plan.script else { return nil }
        // The reader works on the view and the script in place: no copy of
        // either per event.
        func read(_ script: UnsafeMutablePointer<FieldLookupScript>?) -> Result<KernelEvent, Undecoded>? {
            var reading = ViewReading(view: view, script: script)
            return withUnsafeMutablePointer(to: &reading) { reading in
                var reader = FieldReader(reading)
                return Self.typed(plan, &reader)
            }
        }
        let result: Result<KernelEvent, Undecoded>?
        if let layout = view.layout {
            if scripts[slot].layout != layout { scripts[slot] = FieldLookupScript(layout: layout) }
            result = withUnsafeMutablePointer(to: &scripts[slot], read)
        } else {
            result = read(nil)
        }
        switch result {
        case .success(let typed): return typed
        case .failure(let problem):
            diagnostics.warn(view.name, problem.message)
            return nil
        case nil: return nil
        }
    }

    /// Why an event of a typed format stayed `.other`.
    private struct Undecoded: Error {
        let message: String

        static func missing(_ field: String) -> Undecoded {
            Undecoded(message: "no field \(field) in this format; event left undecoded")
        }
    }

    /// The typed event of a plan that has one, or why there is none; nil
    /// for an untyped plan. (The caller diagnoses, under the event's name:
    /// a view's name is fetched only then.)
    private static func typed(_ plan: Plan, _ reader: inout FieldReader) -> Result<KernelEvent, Undecoded>? {
        switch plan {
        case .untyped: return nil
        case .enter(let call, _): return enter(call, &reader)
        case .exit(let call, _): return exit(call, &reader)
        case .table(let decode, _):
            let typed = decode(&reader)
            if let missing = reader.missing { return .failure(.missing(missing)) }
            return .success(typed)
        }
    }

    /// `sys_enter_NAME` (the text reader renames `sys_NAME(...)` to it).
    private static func enter(_ call: Syscall, _ f: inout FieldReader) -> Result<KernelEvent, Undecoded> {
        var args = SyscallArguments(fd: f.optionalInt("fd"))
        switch call {
        case .ioctl:
            guard let cmd = f.optionalUInt("cmd") else { return .failure(.missing("cmd")) }
            args.ioctl = IoctlCommand(raw: cmd)
        case .fallocate:
            args.offset = f.optionalInt("offset")
            args.length = f.optionalInt("len")
        case .pwrite64:
            args.offset = f.optionalInt("pos")
            args.length = f.optionalInt("count")
        case .syncFileRange:
            args.offset = f.optionalInt("offset")
            args.length = f.optionalInt("nbytes")
        case .ftruncate:
            args.length = f.optionalInt("length")
        default:
            break
        }
        return .success(.syscall(.enter(call, arguments: args)))
    }

    /// `sys_exit_NAME` (the text reader renames `sys_NAME -> ret` to it).
    private static func exit(_ call: Syscall, _ f: inout FieldReader) -> Result<KernelEvent, Undecoded> {
        let value = f.optionalValue("ret")
        guard let ret = value?.int64 ?? value?.uint64.map({ Int64(bitPattern: $0) }) else {
            return .failure(.missing("ret"))
        }
        return .success(.syscall(.exit(call, ret: ret)))
    }
}
