/// Per-format work a consumer caches by `TraceEvent.formatID`. The numbers
/// are a reader's own, so each entry keeps the event name it was made for
/// and a lookup checks it: an event from another reader whose number means
/// another format misses instead of getting the wrong value. (The same name
/// string compares by identity, so the check costs next to nothing.)
///
/// Inlinable because its users are in other modules: unspecialised, every
/// lookup asked the runtime for the metadata of the slot's tuple type and
/// copied through value witnesses (a fifth of the reading thread's time on a
/// 5 M-event trace.dat, perf).
@frozen public struct FormatCache<Value> {
    @usableFromInline var names: [String?] = []
    @usableFromInline var values: [Value?] = []
    /// The `EventView.layout` an entry was stored for, if any: a view of that
    /// layout has that name, so its lookup needs no name at all (fetching a
    /// view's name costs a reference count).
    @usableFromInline var layouts: [Int?] = []
    /// Numbers past this are not cached (a damaged file may claim any).
    @inlinable public static var limit: Int { 1 << 16 }

    @inlinable public init() {}

    @inlinable public func value(for event: TraceEvent) -> Value? {
        value(formatID: event.formatID, name: event.name)
    }

    @inlinable public mutating func store(_ value: Value, for event: TraceEvent) {
        store(value, formatID: event.formatID, name: event.name)
    }

    /// By a view: its layout if the entry was stored for it, else its name.
    @inlinable public func value(for view: EventView) -> Value? {
        let id = Int(view.formatID)
        guard id >= 0, id < names.count else { return nil }
        if let layout = view.layout, layouts[id] == layout { return values[id] }
        return value(formatID: view.formatID, name: view.name)
    }

    /// Stores by the view's number and name, and its layout.
    @inlinable public mutating func store(_ value: Value, for view: EventView) {
        store(value, formatID: view.formatID, name: view.name)
        let id = Int(view.formatID)
        if id >= 0, id < layouts.count { layouts[id] = view.layout }
    }

    /// By number and name, for a reader that has both before it has an event.
    @inlinable public func value(formatID: Int32, name: String) -> Value? {
        let id = Int(formatID)
        guard id >= 0, id < names.count, let known = names[id], known == name else { return nil }
        return values[id]
    }

    @inlinable public mutating func store(_ value: Value, formatID: Int32, name: String) {
        let id = Int(formatID)
        guard id >= 0, id < Self.limit else { return }
        if id >= names.count {
            names.append(contentsOf: repeatElement(nil, count: id + 1 - names.count))
            values.append(contentsOf: repeatElement(nil, count: id + 1 - values.count))
            layouts.append(contentsOf: repeatElement(nil, count: id + 1 - layouts.count))
        }
        names[id] = name
        values[id] = value
        layouts[id] = nil
    }
}

extension FormatCache: Sendable where Value: Sendable {}
