/// A kernel device number as the trace prints it (`7,0`, `7:0`) or stores it
/// (a kernel `dev_t`: major in the top 12 bits, minor in the low 20).
public struct DeviceNumber: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var major: UInt32
    public var minor: UInt32

    public init(major: UInt32, minor: UInt32) {
        self.major = major
        self.minor = minor
    }

    /// Decodes the in-kernel `dev_t` encoding (`MKDEV(ma, mi) = ma << 20 | mi`),
    /// which is what tracepoints store in their `dev`/`s_dev` fields.
    public init(kernelEncoded dev: UInt64) {
        self.major = UInt32(truncatingIfNeeded: dev >> 20)
        self.minor = UInt32(truncatingIfNeeded: dev & 0xFFFFF)
    }

    /// The inverse of `init(kernelEncoded:)`: the value a tracefs filter compares with.
    public var kernelEncoded: UInt64 { UInt64(major) << 20 | UInt64(minor) }

    /// Parses "MAJ:MIN" or "MAJ,MIN".
    public init?(_ text: some StringProtocol) {
        guard let sep = text.firstIndex(where: { $0 == ":" || $0 == "," }),
              let major = UInt32(text[text.startIndex..<sep]),
              let minor = UInt32(text[text.index(after: sep)...])
        else { return nil }
        self.init(major: major, minor: minor)
    }

    /// "MAJ:MIN", the form used in wbreplay's output.
    public var description: String { "\(major):\(minor)" }

    public static func < (a: DeviceNumber, b: DeviceNumber) -> Bool {
        (a.major, a.minor) < (b.major, b.minor)
    }

    /// One word into the hasher instead of two.
    public func hash(into hasher: inout Hasher) { hasher.combine(word) }

    /// The replay looks its file systems' superblocks up by device several
    /// times per event and profile: no SipHash round (`WordHash`).
    public func _rawHashValue(seed: Int) -> Int { WordHash.fold(word, seed: seed) }

    private var word: UInt64 { UInt64(major) << 32 | UInt64(minor) }
}

/// The value of one event field. Both readers produce the same cases for the
/// same field, so that a value from trace.dat compares equal to the value
/// parsed from the printed text of the same event.
public enum FieldValue: Hashable, Sendable, CustomStringConvertible {
    case signed(Int64)
    case unsigned(UInt64)
    case string(String)
    case device(DeviceNumber)

    /// The value as a signed integer, when it is a number that fits.
    public var int64: Int64? {
        switch self {
        case .signed(let v): return v
        case .unsigned(let v): return v <= UInt64(Int64.max) ? Int64(v) : nil
        default: return nil
        }
    }

    /// The value as an unsigned integer (two's complement for negative numbers,
    /// as the kernel stores them).
    public var uint64: UInt64? {
        switch self {
        case .signed(let v): return UInt64(bitPattern: v)
        case .unsigned(let v): return v
        case .device(let d): return d.kernelEncoded
        case .string: return nil
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var device: DeviceNumber? {
        if case .device(let d) = self { return d }
        return nil
    }

    public var description: String {
        switch self {
        case .signed(let v): return String(v)
        case .unsigned(let v): return String(v)
        case .string(let s): return s
        case .device(let d): return d.description
        }
    }
}

/// One named field of an event.
public struct EventField: Hashable, Sendable {
    public var name: String
    public var value: FieldValue

    public init(_ name: String, _ value: FieldValue) {
        self.name = name
        self.value = value
    }
}

/// The fields of one event, in the order of the event's format.
public struct EventFields: Hashable, Sendable, RandomAccessCollection {
    public var storage: [EventField]

    public init(_ fields: [EventField] = []) { storage = fields }

    public var startIndex: Int { storage.startIndex }
    public var endIndex: Int { storage.endIndex }
    public subscript(position: Int) -> EventField { storage[position] }

    /// The value of the field called `name`; events have a handful of fields,
    /// so a linear scan beats hashing.
    public subscript(name: String) -> FieldValue? {
        for field in storage where field.name == name { return field.value }
        return nil
    }

    public func int(_ name: String) -> Int64? { self[name]?.int64 }
    public func uint(_ name: String) -> UInt64? { self[name]?.uint64 }
    public func string(_ name: String) -> String? { self[name]?.stringValue }
    public func device(_ name: String) -> DeviceNumber? { self[name]?.device }

    public mutating func append(_ name: String, _ value: FieldValue) {
        storage.append(EventField(name, value))
    }
}
