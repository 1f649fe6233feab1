/// A value per CPU number, for lookups on every event: an array for the
/// CPU numbers machines have, a dictionary for anything a damaged trace
/// claims beyond them (hashing every event's CPU number showed in profiles).
/// Inlinable: the replay and the event graph read it on every event from
/// other modules, where an unspecialized generic would cost more than the hash.
public struct PerCPU<Value: Sendable>: Sendable {
    @usableFromInline var values: [Value?] = []
    @usableFromInline var beyond: [Int: Value] = [:]
    @usableFromInline static var arrayLimit: Int { 4096 }

    @inlinable public init() {}

    @inlinable public subscript(cpu: Int) -> Value? {
        get {
            if cpu >= 0, cpu < Self.arrayLimit { return cpu < values.count ? values[cpu] : nil }
            return beyond[cpu]
        }
        set {
            guard cpu >= 0, cpu < Self.arrayLimit else { beyond[cpu] = newValue; return }
            if cpu >= values.count {
                guard newValue != nil else { return }
                values.append(contentsOf: repeatElement(nil, count: cpu + 1 - values.count))
            }
            values[cpu] = newValue
        }
    }
}
