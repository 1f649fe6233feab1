import CTrace

/// Finds the fields an event prints as kernel symbols (`%ps`, `%pS`, and the
/// older `%pf`/`%pF`), by walking its print format alongside its argument list
/// as libtraceevent parsed them.
///
/// Why: `workqueue_execute_start`'s `function` is a `void *` whose meaning is
/// the work function's *name* (`ext4_end_io_rsv_work`); the kernel, the tracefs
/// text and `trace-cmd report` all print the name, so the reader exposes such
/// fields as `.string` with the same text (see `DatFieldDecoder`).
enum DatSymbolFields {
    /// How a symbol field prints: `%ps` gives `name`, `%pS` gives `name+0xoff`.
    enum Style: Sendable, Equatable {
        case name
        case nameAndOffset
    }

    /// Field name → style for every field the event prints as a symbol.
    static func find(in event: UnsafeMutablePointer<tep_event>) -> [String: Style] {
        guard let format = event.pointee.print_fmt.format else { return [:] }
        var result: [String: Style] = [:]
        var arg = event.pointee.print_fmt.args
        var p = UnsafePointer<CChar>(format)
        /// Moves to the next argument; each conversion (and each `*`) takes one.
        func takeArg() -> UnsafeMutablePointer<tep_print_arg>? {
            let current = arg
            arg = arg?.pointee.next
            return current
        }
        while p.pointee != 0 {
            guard p.pointee == UInt8(ascii: "%") else { p += 1; continue }
            p += 1
            if p.pointee == UInt8(ascii: "%") { p += 1; continue }
            // flags, width, precision and length modifiers
            while p.pointee != 0 {
                let c = UInt8(bitPattern: p.pointee)
                if c == UInt8(ascii: "*") {
                    _ = takeArg()
                } else if !(c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: " ")
                    || c == UInt8(ascii: "#") || c == UInt8(ascii: ".")
                    || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                    || c == UInt8(ascii: "h") || c == UInt8(ascii: "l") || c == UInt8(ascii: "L")
                    || c == UInt8(ascii: "z") || c == UInt8(ascii: "j") || c == UInt8(ascii: "t")
                    || c == UInt8(ascii: "q")) {
                    break
                }
                p += 1
            }
            guard p.pointee != 0 else { break }
            let conversion = UInt8(bitPattern: p.pointee)
            p += 1
            let current = takeArg()
            guard conversion == UInt8(ascii: "p") else { continue }
            let style: Style
            switch UInt8(bitPattern: p.pointee) {
            case UInt8(ascii: "s"), UInt8(ascii: "f"): style = .name
            case UInt8(ascii: "S"), UInt8(ascii: "F"): style = .nameAndOffset
            default: continue
            }
            p += 1
            if let name = fieldName(of: current) { result[name] = style }
        }
        return result
    }

    /// The field an argument reads, looking through casts like `(void *)REC->ip`.
    private static func fieldName(of arg: UnsafeMutablePointer<tep_print_arg>?) -> String? {
        var arg = arg
        while let a = arg, a.pointee.type == TEP_PRINT_TYPE {
            arg = a.pointee.typecast.item
        }
        guard let a = arg, a.pointee.type == TEP_PRINT_FIELD else { return nil }
        if let field = a.pointee.field.field, let name = field.pointee.name {
            return String(cString: name)
        }
        return a.pointee.field.name.map { String(cString: $0) }
    }
}
