import TraceIO

/// Where injected events come from: events the recordings themselves hold.
/// A new event is a copy of one of the same name — from the trace being
/// edited, else from another recording of the same kernel and format — with
/// its time, task and a few field values changed; its field layout (and, in
/// text traces, the printed line) stays the kernel's.
public struct TemplateBook: Sendable {
    private var events: [String: [TraceEvent]] = [:]

    public init() {}

    /// Adds every event of `index` as a candidate template: the first few
    /// of each name, and one of each call site (`ip`) a name is seen with.
    public mutating func add(_ index: TraceIndex, perName: Int = 64, printed: Bool = true) {
        var sites: Set<String> = []
        for var e in index.events {
            if !printed { e.rawText = nil }
            let n = events[e.name]?.count ?? 0
            if n < perName {
                events[e.name, default: []].append(e)
            } else if let ip = e.fields.string("ip"), sites.insert(e.name + "|" + ip).inserted {
                events[e.name, default: []].append(e)
            }
        }
    }

    /// The templates of `name` that `accept` takes, the trace's own first.
    public func template(_ name: String, _ accept: (TraceEvent) -> Bool = { _ in true }) -> TraceEvent? {
        events[name]?.first(where: accept)
    }

    public func has(_ name: String) -> Bool { events[name] != nil }
}

/// A field to set on a copied event: the new value keeps the template's
/// `FieldValue` case (a text trace's syscall argument stays `.unsigned`).
public struct FieldChange: Sendable {
    public var name: String
    public var value: Int64?
    public var string: String?

    public static func int(_ name: String, _ value: Int64) -> FieldChange { FieldChange(name: name, value: value) }
    public static func uint(_ name: String, _ value: UInt64) -> FieldChange {
        FieldChange(name: name, value: Int64(bitPattern: value))
    }
    public static func text(_ name: String, _ value: String) -> FieldChange { FieldChange(name: name, string: value) }
}

/// Who an injected event belongs to.
public struct Actor: Hashable, Sendable {
    public var pid: Int32
    public var comm: String
    public var cpu: Int

    public init(pid: Int32, comm: String, cpu: Int) {
        self.pid = pid
        self.comm = comm
        self.cpu = cpu
    }

    public init(of e: TraceEvent) {
        self.init(pid: e.pid, comm: e.comm, cpu: e.cpu)
    }

    public func on(_ cpu: Int) -> Actor { Actor(pid: pid, comm: comm, cpu: cpu) }
}

public enum EventFactoryError: Error, CustomStringConvertible {
    case noTemplate(String)
    public var description: String {
        switch self {
        case .noTemplate(let n): return "no recorded \(n) event to copy (neither in this trace nor in the other recordings of its kernel)"
        }
    }
}

/// Copies templates into new events.
public struct EventFactory: Sendable {
    public let book: TemplateBook

    public init(book: TemplateBook) { self.book = book }

    /// A copy of a recorded `name` event (the first `accept` takes), with
    /// the given time, task and field values.
    public func make(_ name: String, at t: UInt64, by actor: Actor, _ changes: [FieldChange] = [],
                     where accept: (TraceEvent) -> Bool = { _ in true }) throws -> TraceEvent {
        guard let template = book.template(name, accept) ?? book.template(name) else {
            throw EventFactoryError.noTemplate(name)
        }
        return Self.copy(template, at: t, by: actor, changes)
    }

    /// `template` at another time, on another task, with other field values.
    public static func copy(_ template: TraceEvent, at t: UInt64, by actor: Actor, _ changes: [FieldChange]) -> TraceEvent {
        var e = template
        e.timestamp = t
        e.pid = actor.pid
        e.comm = actor.comm
        e.cpu = actor.cpu
        e.formatID = template.formatID
        apply(changes, to: &e)
        return e
    }

    /// Sets fields of an event, keeping each value's case, and rewrites
    /// the printed text to match (or drops it when it cannot).
    public static func apply(_ changes: [FieldChange], to e: inout TraceEvent) {
        for c in changes {
            guard let i = e.fields.storage.firstIndex(where: { $0.name == c.name }) else { continue }
            let old = e.fields.storage[i].value
            let new: FieldValue
            switch old {
            case .signed: new = .signed(c.value ?? 0)
            case .unsigned: new = .unsigned(UInt64(bitPattern: c.value ?? 0))
            case .string: new = .string(c.string ?? String(c.value ?? 0))
            case .device(let d): new = c.value.map { .device(DeviceNumber(kernelEncoded: UInt64(bitPattern: $0))) } ?? .device(d)
            }
            guard new != old else { continue }
            e.fields.storage[i].value = new
            if let raw = e.rawText {
                e.rawText = PrintedText.substitute(in: raw, event: e.name, field: c.name, old: old, new: new)
            }
        }
    }
}
