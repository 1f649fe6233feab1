/// One tracepoint's printed form, as data: the generator
/// (Tools/gen-event-specs.py) turns each format file's `print fmt` into
///
///     fields:  "dev:dev ino:u8 lblk:u4 flags:u4"
///     pattern: "dev {dev<<20:d},{dev:d} ino {ino:u} lblk {lblk:u} flags {flags:F:ext4_ext_map_blocks_enter.flags}"
///
/// Field types: `uN`/`sN` (unsigned/signed, N bytes), `str`, `dev` (dev_t),
/// `sym` (a pointer printed as a symbol: stored as the symbol's name).
/// Placeholders: `{field:conv}` with conv `d` `u` `x` `o` (numbers), `s`
/// (string up to the next literal), `p` (pointer), `S` (symbol), `c`,
/// `F:table` (__print_flags), `Y:table` (__print_symbolic). `field<<N` and
/// `field>>N` put a printed part back in place (`dev %d,%d` prints dev>>20
/// and dev&0xfffff; filemap prints `index << 12`). `_` skips a value whose
/// expression cannot be inverted. `{{` and `}}` are literal braces.
struct EventSpecSource: Sendable {
    let event: String
    let fields: String
    let pattern: String

    init(_ event: String, _ fields: String, _ pattern: String) {
        self.event = event
        self.fields = fields
        self.pattern = pattern
    }
}

/// How a field's parsed bits become a `FieldValue`, as libtraceevent decodes
/// a field of that type from trace.dat.
enum FieldKind: Sendable, Equatable {
    case unsigned(bytes: Int)
    case signed(bytes: Int)
    case string
    case device
    /// A function pointer printed with %ps/%pS: its symbol name (`.string`).
    case symbol
    /// Arrays and other types the reader does not rebuild.
    case unsupported
}

enum Conversion: Sendable {
    case signedDecimal, unsignedDecimal, hex, octal, string, pointer, symbol, character
    case flags(FlagTable)
    case symbolic(FlagTable)
}

enum SpecOp: Sendable {
    case literal([UInt8])
    /// `field` indexes `EventSpec.fieldNames`, -1 for a skipped value.
    case value(field: Int, shift: Int, conversion: Conversion)
}

/// A compiled spec, matched by `SpecMatcher`.
struct EventSpec: Sendable {
    let event: String
    let system: String
    let fieldNames: [String]
    let fieldKinds: [FieldKind]
    let ops: [SpecOp]

    init(system: String, source: EventSpecSource) {
        self.event = source.event
        self.system = system
        var names: [String] = []
        var kinds: [FieldKind] = []
        for decl in source.fields.split(separator: " ") {
            let parts = decl.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            names.append(String(parts[0]))
            kinds.append(EventSpec.kind(parts[1]))
        }
        fieldNames = names
        fieldKinds = kinds
        ops = EventSpec.compile(source.pattern, fieldNames: names)
    }

    static func kind(_ text: Substring) -> FieldKind {
        switch text {
        case "str": return .string
        case "dev": return .device
        case "sym": return .symbol
        default:
            guard let first = text.first, let bytes = Int(text.dropFirst()), bytes > 0, bytes <= 8
            else { return .unsupported }
            return first == "s" ? .signed(bytes: bytes) : .unsigned(bytes: bytes)
        }
    }

    static func compile(_ pattern: String, fieldNames: [String]) -> [SpecOp] {
        var ops: [SpecOp] = []
        var literal: [UInt8] = []
        let bytes = Array(pattern.utf8)
        var i = 0
        func flush() {
            if !literal.isEmpty { ops.append(.literal(literal)); literal = [] }
        }
        while i < bytes.count {
            let b = bytes[i]
            if (b == UInt8(ascii: "{") || b == UInt8(ascii: "}")), i + 1 < bytes.count, bytes[i + 1] == b {
                literal.append(b)
                i += 2
                continue
            }
            guard b == UInt8(ascii: "{"), let close = bytes[i...].firstIndex(of: UInt8(ascii: "}")) else {
                literal.append(b)
                i += 1
                continue
            }
            flush()
            ops.append(placeholder(String(decoding: bytes[(i + 1)..<close], as: UTF8.self), fieldNames))
            i = close + 1
        }
        // The reader trims trailing spaces from each line (print fmts such as
        // ext4_request_blocks end in one), so the pattern must not need them.
        while literal.last == 0x20 { literal.removeLast() }
        flush()
        return ops
    }

    /// Parses `target:conv` where target is `_`, `name`, `name<<N` or `name>>N`.
    static func placeholder(_ text: String, _ fieldNames: [String]) -> SpecOp {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        var target = parts[0]
        var shift = 0
        if let i = target.firstIndex(where: { $0 == "<" || $0 == ">" }) {
            let amount = Int(target[i...].dropFirst(2)) ?? 0
            shift = target[i] == "<" ? amount : -amount
            target = String(target[..<i])
        }
        let field = fieldNames.firstIndex(of: target) ?? -1
        let conv = parts.count > 1 ? parts[1] : "s"
        let conversion: Conversion
        switch conv.prefix(1) {
        case "d": conversion = .signedDecimal
        case "u": conversion = .unsignedDecimal
        case "x": conversion = .hex
        case "o": conversion = .octal
        case "p": conversion = .pointer
        case "S": conversion = .symbol
        case "c": conversion = .character
        case "F": conversion = .flags(FlagTable.named(String(conv.dropFirst(2))))
        case "Y": conversion = .symbolic(FlagTable.named(String(conv.dropFirst(2))))
        default: conversion = .string
        }
        return .value(field: field, shift: shift, conversion: conversion)
    }
}

/// All generated specs by system (Generated/EventSpecs+*.swift).
enum EventSpecCatalog {
    static let all: [EventSpec] = {
        let systems: [(String, [EventSpecSource])] = [
            ("ext4", ext4), ("writeback", writeback), ("block", block), ("workqueue", workqueue),
            ("filemap", filemap), ("jbd2", jbd2), ("iomap", iomap),
        ]
        return systems.flatMap { system, sources in
            sources.map { EventSpec(system: system, source: $0) }
        }
    }()
}
