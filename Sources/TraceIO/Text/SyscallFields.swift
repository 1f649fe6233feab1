/// Fields of syscall events, which no generated spec covers: their printed
/// form comes from the kernel's syscall tracer, not from a print fmt.
///
/// In the format files every argument is an 8-byte unsigned field
/// (`field:unsigned int fd; size:8; signed:0;`) and `ret` is a signed long,
/// so arguments become `.unsigned` (a sign-extended ioctl cmd stays
/// 0xffffffffc0045877, as libtraceevent reads it) and `ret` `.signed`
/// (0xffffffffffffffe7 is -25). `__syscall_nr` is not printed by either
/// text format and is therefore absent.
enum SyscallFields {
    /// `fd: 3, cmd: 0x540f, arg: 0x7ffe…` (tracefs) or
    /// `fd: 0x00000003, cmd: 0x0000540f, …` (trace-cmd report).
    static func enter(
        _ body: UnsafeBufferPointer<UInt8>, names: inout ByteInterner<String>, wanted: FieldSelection
    ) -> EventFields {
        var fields: [EventField] = []
        var i = 0
        while i < body.count {
            while i < body.count, body[i] == 0x20 { i += 1 }
            let keyStart = i
            while i < body.count, body[i] != UInt8(ascii: ":"), body[i] != UInt8(ascii: ",") { i += 1 }
            guard i < body.count, body[i] == UInt8(ascii: ":"), i > keyStart else { break }
            let key = UnsafeBufferPointer(rebasing: body[keyStart..<i])
            i += 1
            while i < body.count, body[i] == 0x20 { i += 1 }
            let valueStart = i
            while i < body.count, body[i] != UInt8(ascii: ","), body[i] != 0x20 { i += 1 }
            let token = UnsafeBufferPointer(rebasing: body[valueStart..<i])
            // Anything after the number (a user string some kernels add) up to the next argument.
            while i < body.count, body[i] != UInt8(ascii: ",") { i += 1 }
            if i < body.count { i += 1 }
            let name = names.string(key)
            guard wanted.includes(name), let value = NumberScanner.parseSyscallValue(token) else { continue }
            fields.append(EventField(name, .unsigned(value)))
        }
        return EventFields(fields)
    }

    /// `0x0`, `0xffffffffffffffe7` or `-25`: the syscall's return value.
    static func exit(_ body: UnsafeBufferPointer<UInt8>, wanted: FieldSelection) -> EventFields {
        var end = body.count
        while end > 0, body[end - 1] == 0x20 { end -= 1 }
        guard wanted.includes("ret"),
              let value = NumberScanner.parseSyscallValue(UnsafeBufferPointer(rebasing: body[0..<end]))
        else { return EventFields() }
        return EventFields([EventField("ret", .signed(Int64(bitPattern: value)))])
    }
}

/// The ftrace `print` event: `ip` (the writer, a symbol, stored by name as
/// for every pointer printed with %ps) and `buf` (the text, without the
/// newline trace_marker appends).
enum PrintFields {
    static func fields(
        _ body: UnsafeBufferPointer<UInt8>, shape: EventShape, wanted: FieldSelection
    ) -> EventFields {
        var end = body.count
        while end > 0, body[end - 1] == 0x20 || body[end - 1] == 0x0A { end -= 1 }
        var ip = Array("tracing_mark_write".utf8)[...]
        var textStart = 0
        if shape == .print {
            // `SYMBOL: TEXT`
            var i = 0
            while i + 1 < end, !(body[i] == UInt8(ascii: ":") && body[i + 1] == 0x20) { i += 1 }
            guard i + 1 < end else { return EventFields() }
            ip = Array(body[0..<i])[...]
            textStart = i + 2
        }
        var fields: [EventField] = []
        if wanted.includes("ip") { fields.append(EventField("ip", .string(String(decoding: ip, as: UTF8.self)))) }
        if wanted.includes("buf") {
            fields.append(EventField("buf", .string(String(decoding: body[textStart..<end], as: UTF8.self))))
        }
        return EventFields(fields)
    }

    /// The text of a print event's body (the part after `SYMBOL: ` for trace-cmd's form).
    static func text(_ body: UnsafeBufferPointer<UInt8>, shape: EventShape) -> UnsafeBufferPointer<UInt8> {
        guard shape == .print else { return body }
        var i = 0
        while i + 1 < body.count, !(body[i] == UInt8(ascii: ":") && body[i + 1] == 0x20) { i += 1 }
        return i + 2 <= body.count ? UnsafeBufferPointer(rebasing: body[(i + 2)...]) : body
    }
}

/// Fields of events without a spec: only when the whole text is
/// `key=value` pairs (names and values without spaces), so that nothing is
/// guessed. Decimal numbers become `.signed` when negative and `.unsigned`
/// otherwise, `0x` numbers `.unsigned`, anything else `.string`; the field
/// types of such events are unknown, so consumers should compare them by
/// number (`int64`/`uint64`), not by case.
enum GenericFields {
    static func parse(
        _ body: UnsafeBufferPointer<UInt8>, names: inout ByteInterner<String>, wanted: FieldSelection
    ) -> EventFields {
        var fields: [EventField] = []
        var i = 0
        while i < body.count {
            while i < body.count, body[i] == 0x20 { i += 1 }
            if i == body.count { break }
            let keyStart = i
            while i < body.count, body[i] == UInt8(ascii: "_") || SpecMatcher.isFlagByte(body[i]), body[i] != UInt8(ascii: "|") { i += 1 }
            guard i > keyStart, i < body.count, body[i] == UInt8(ascii: "=") else { return EventFields() }
            let key = UnsafeBufferPointer(rebasing: body[keyStart..<i])
            i += 1
            let valueStart = i
            while i < body.count, body[i] != 0x20 { i += 1 }
            let token = UnsafeBufferPointer(rebasing: body[valueStart..<i])
            let name = names.string(key)
            guard wanted.includes(name) else { continue }
            if let n = NumberScanner.parseWhole(token) {
                let negative = token.first == UInt8(ascii: "-")
                fields.append(EventField(name, negative ? .signed(Int64(bitPattern: n)) : .unsigned(n)))
            } else {
                fields.append(EventField(name, .string(String(decoding: token, as: UTF8.self))))
            }
        }
        return EventFields(fields)
    }
}
