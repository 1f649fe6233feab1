/// Maps byte strings to shared values, so that the hot loop turns a task
/// name or event name into a `String` once per distinct name, not per line.
/// Open addressing over FNV-1a hashes; bounded, so memory does not grow
/// with the file (past `capacity` distinct keys, callers build values anew).
struct ByteInterner<Value> {
    private var slots: [Int32]
    private var keys: [[UInt8]] = []
    private var values: [Value] = []
    let capacity: Int

    init(capacity: Int = 8192) {
        self.capacity = capacity
        var size = 64
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: -1, count: size)
    }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// The value stored for `bytes`, or a new one from `make` (stored while there is room).
    @inline(__always)
    mutating func value(for bytes: UnsafeBufferPointer<UInt8>, _ make: (UnsafeBufferPointer<UInt8>) -> Value) -> Value {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: ByteInterner.hash(bytes)) & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { break }
            if keys[index].elementsEqual(bytes) { return values[index] }
            slot = (slot + 1) & mask
        }
        let value = make(bytes)
        if keys.count < capacity {
            slots[slot] = Int32(keys.count)
            keys.append(Array(bytes))
            values.append(value)
        }
        return value
    }
}

extension ByteInterner where Value == String {
    @inline(__always)
    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        value(for: bytes) { String(decoding: $0, as: UTF8.self) }
    }
}
