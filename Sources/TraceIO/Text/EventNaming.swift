/// How an event's own text is laid out after the timestamp column.
enum EventShape: Sendable {
    /// `NAME: fields` matched by a generated spec, or left as raw text.
    case plain
    /// tracefs `sys_fsync(fd: 3)`, trace-cmd `sys_enter_fsync: fd: 0x00000003`.
    case syscallEnter
    /// tracefs `sys_fsync -> 0x0`, trace-cmd `sys_exit_fsync: 0x0`.
    case syscallExit
    /// The ftrace `print` event (trace_marker writes) as trace-cmd prints
    /// it: `print: tracing_mark_write: TEXT` (`%ps: %s` of ip and buf).
    case print
    /// The same event in the tracefs file: `tracing_mark_write: TEXT`.
    case tracefsPrint
}

/// What the reader knows about one event name, looked up once per distinct
/// name (a class, so that a lookup costs one reference count).
final class EventDescriptor: Sendable {
    /// The name as in the format files and trace.dat.
    let name: String
    let system: String?
    let shape: EventShape
    /// The event's print formats across kernels, newest first: the text of a
    /// line is matched against each in turn (5.10 prints block_rq_issue
    /// without 6.12's ioprio column).
    let specs: [EventSpec]
    /// The reader's number for this name (`TraceEvent.formatID`).
    let id: Int32

    init(name: String, system: String?, shape: EventShape, specs: [EventSpec], id: Int32) {
        self.id = id
        self.name = name
        self.system = system
        self.shape = shape
        self.specs = specs
    }
}

/// The event name at the start of an event's text, and where its fields are.
struct EventHead {
    var descriptor: EventDescriptor
    var body: Range<Int>
}

/// Normalises names so that both text formats agree with trace.dat: the
/// tracefs file prints syscalls as `sys_fsync(…)`/`sys_fsync -> ret` and
/// trace_marker writes as `tracing_mark_write:`, trace.dat names them
/// `sys_enter_fsync`, `sys_exit_fsync` and `print`.
struct EventNaming {
    private var descriptors = ByteInterner<EventDescriptor>(capacity: 4096)
    private var scratch: [UInt8] = []
    private var described: Int32 = 0
    private let specs: [String: [EventSpec]]

    init() {
        // The catalog lists an event's variants newest first; grouping keeps that order.
        self.specs = Dictionary(grouping: EventSpecCatalog.all, by: \.event)
    }

    mutating func head(_ line: UnsafeBufferPointer<UInt8>, from start: Int) -> EventHead? {
        var i = start
        while i < line.count, line[i] != UInt8(ascii: ":"), line[i] != UInt8(ascii: "("), line[i] != 0x20 { i += 1 }
        guard i > start, i < line.count else { return nil }
        let name = UnsafeBufferPointer(rebasing: line[start..<i])
        switch line[i] {
        case UInt8(ascii: ":"):
            var bodyStart = i + 1
            while bodyStart < line.count, line[bodyStart] == 0x20 { bodyStart += 1 }
            let descriptor = lookup(name)
            return EventHead(descriptor: descriptor, body: bodyStart..<line.count)
        case UInt8(ascii: "("):
            guard name.matches(EventNaming.sysPrefix, at: 0) else { return nil }
            var close = line.count
            while close > i + 1, line[close - 1] != UInt8(ascii: ")") { close -= 1 }
            guard close > i + 1 || line[line.count - 1] == UInt8(ascii: ")") else { return nil }
            let end = close > i + 1 ? close - 1 : i + 1
            return EventHead(descriptor: syscall(name, EventNaming.enterPrefix), body: (i + 1)..<end)
        default:
            guard name.matches(EventNaming.sysPrefix, at: 0), line.matches(EventNaming.arrow, at: i) else { return nil }
            return EventHead(descriptor: syscall(name, EventNaming.exitPrefix), body: (i + EventNaming.arrow.count)..<line.count)
        }
    }

    /// `sys_NAME` of the tracefs text → `sys_enter_NAME` / `sys_exit_NAME`.
    private mutating func syscall(_ name: UnsafeBufferPointer<UInt8>, _ prefix: [UInt8]) -> EventDescriptor {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: prefix)
        scratch.append(contentsOf: name[EventNaming.sysPrefix.count...])
        return scratch.withUnsafeBufferPointer { lookup($0) }
    }

    private mutating func lookup(_ name: UnsafeBufferPointer<UInt8>) -> EventDescriptor {
        let specs = self.specs
        let id = described
        let descriptor = descriptors.value(for: name) { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            if bytes.matches(EventNaming.enterPrefix, at: 0) {
                return EventDescriptor(name: text, system: "syscalls", shape: .syscallEnter, specs: [], id: id)
            }
            if bytes.matches(EventNaming.exitPrefix, at: 0) {
                return EventDescriptor(name: text, system: "syscalls", shape: .syscallExit, specs: [], id: id)
            }
            if text == "tracing_mark_write" {
                return EventDescriptor(name: "print", system: "ftrace", shape: .tracefsPrint, specs: [], id: id)
            }
            if text == "print" {
                return EventDescriptor(name: "print", system: "ftrace", shape: .print, specs: [], id: id)
            }
            if let variants = specs[text], let newest = variants.first {
                return EventDescriptor(name: text, system: newest.system, shape: .plain, specs: variants, id: id)
            }
            return EventDescriptor(name: text, system: nil, shape: .plain, specs: [], id: id)
        }
        if descriptor.id == id { described += 1 }
        return descriptor
    }

    static let sysPrefix = Array("sys_".utf8)
    static let enterPrefix = Array("sys_enter_".utf8)
    static let exitPrefix = Array("sys_exit_".utf8)
    static let arrow = Array(" -> ".utf8)
}
