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
    /// The kernels that print the event this way (bit i: the i-th kernel the
    /// generator read, newest first).
    let kernels: UInt64

    init(_ event: String, _ fields: String, _ pattern: String, kernels: UInt64 = ~0) {
        self.event = event
        self.fields = fields
        self.pattern = pattern
        self.kernels = kernels
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

enum Conversion: UInt8, Sendable {
    case signedDecimal, unsignedDecimal, hex, octal, string, pointer, symbol, character
    /// `__print_flags` / `__print_symbolic`: `SpecOp.table` indexes `EventSpec.tables`.
    case flags, symbolic
}

/// One step of a pattern: a literal (bytes `literalStart..<literalEnd` of
/// `EventSpec.literalBytes`) or a value. Plain data, so that the matcher's
/// loop copies no references.
struct SpecOp: Sendable {
    var isLiteral: Bool
    /// Indexes `EventSpec.fieldNames`, -1 for a skipped value.
    var field: Int
    var shift: Int
    var conversion: Conversion
    var table: Int
    var literalStart: Int
    var literalEnd: Int

    var literalCount: Int { literalEnd - literalStart }
}

/// A compiled spec, matched by `SpecMatcher`. A class: the hot loop passes
/// it around with one reference count, not one per member.
final class EventSpec: Sendable {
    let event: String
    let system: String
    let fieldNames: [String]
    let fieldKinds: [FieldKind]
    let ops: [SpecOp]
    let literalBytes: [UInt8]
    let tables: [FlagTable]
    /// `EventSpecSource.kernels`.
    let kernels: UInt64

    init(system: String, source: EventSpecSource) {
        self.event = source.event
        self.system = system
        self.kernels = source.kernels
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
        var compiler = PatternCompiler(fieldNames: names)
        compiler.compile(source.pattern)
        ops = compiler.ops
        literalBytes = compiler.literalBytes
        tables = compiler.tables
    }

    /// The literal bytes of `op`.
    func literal(_ op: SpecOp) -> ArraySlice<UInt8> { literalBytes[op.literalStart..<op.literalEnd] }

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

}

/// Turns a pattern string into `SpecOp`s.
struct PatternCompiler {
    let fieldNames: [String]
    var ops: [SpecOp] = []
    var literalBytes: [UInt8] = []
    var tables: [FlagTable] = []
    private var pending: [UInt8] = []

    init(fieldNames: [String]) { self.fieldNames = fieldNames }

    mutating func compile(_ pattern: String) {
        let bytes = Array(pattern.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if (b == UInt8(ascii: "{") || b == UInt8(ascii: "}")), i + 1 < bytes.count, bytes[i + 1] == b {
                pending.append(b)
                i += 2
                continue
            }
            guard b == UInt8(ascii: "{"), let close = bytes[i...].firstIndex(of: UInt8(ascii: "}")) else {
                pending.append(b)
                i += 1
                continue
            }
            flush()
            placeholder(String(decoding: bytes[(i + 1)..<close], as: UTF8.self))
            i = close + 1
        }
        // The reader trims trailing spaces from each line (print fmts such as
        // ext4_request_blocks end in one), so the pattern must not need them.
        while pending.last == 0x20 { pending.removeLast() }
        flush()
    }

    private mutating func flush() {
        guard !pending.isEmpty else { return }
        let start = literalBytes.count
        literalBytes.append(contentsOf: pending)
        ops.append(SpecOp(isLiteral: true, field: -1, shift: 0, conversion: .string, table: -1,
                          literalStart: start, literalEnd: literalBytes.count))
        pending = []
    }

    /// Parses `target:conv` where target is `_`, `name`, `name<<N` or `name>>N`.
    private mutating func placeholder(_ text: String) {
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
        var table = -1
        let conversion: Conversion
        switch conv.prefix(1) {
        case "d": conversion = .signedDecimal
        case "u": conversion = .unsignedDecimal
        case "x": conversion = .hex
        case "o": conversion = .octal
        case "p": conversion = .pointer
        case "S": conversion = .symbol
        case "c": conversion = .character
        case "F", "Y":
            conversion = conv.hasPrefix("F") ? .flags : .symbolic
            table = tables.count
            tables.append(FlagTable.named(String(conv.dropFirst(2))))
        default: conversion = .string
        }
        ops.append(SpecOp(isLiteral: false, field: field, shift: shift, conversion: conversion, table: table,
                          literalStart: 0, literalEnd: 0))
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
