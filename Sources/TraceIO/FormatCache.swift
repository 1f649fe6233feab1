/// Per-format work a consumer caches by `TraceEvent.formatID`. The numbers
/// are a reader's own, so each entry keeps the event name it was made for
/// and a lookup checks it: an event from another reader whose number means
/// another format misses instead of getting the wrong value. (The same name
/// string compares by identity, so the check costs next to nothing.)
public struct FormatCache<Value> {
    private var slots: [(name: String, value: Value)?] = []
    /// Numbers past this are not cached (a damaged file may claim any).
    public static var limit: Int { 1 << 16 }

    public init() {}

    public func value(for event: TraceEvent) -> Value? {
        let id = Int(event.formatID)
        guard id >= 0, id < slots.count, let slot = slots[id], slot.name == event.name else { return nil }
        return slot.value
    }

    public mutating func store(_ value: Value, for event: TraceEvent) {
        let id = Int(event.formatID)
        guard id >= 0, id < Self.limit else { return }
        if id >= slots.count { slots.append(contentsOf: repeatElement(nil, count: id + 1 - slots.count)) }
        slots[id] = (event.name, value)
    }
}

extension FormatCache: Sendable where Value: Sendable {}
