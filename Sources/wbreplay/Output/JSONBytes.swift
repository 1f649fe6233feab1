import Replay
import TraceIO

/// JSON scalars written straight to an `OutputStream`. Only the hot path
/// (`events --format jsonl`, millions of lines) writes JSON by hand — JSONEncoder
/// manages ~35 MB/s here against ~270 MB/s for direct bytes;
/// reports that are written once use JSONEncoder.
enum JSONBytes {
    static func string(_ s: String, to out: OutputStream) {
        out.write(byte: UInt8(ascii: "\""))
        // Most strings (names, comms, symbols) need no escaping: copy them whole.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.write(s.utf8)
            out.write(byte: UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.write([UInt8(ascii: "\\"), b])
            case UInt8(ascii: "\\"): out.write([UInt8(ascii: "\\"), b])
            case 0x0A: out.write([UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.write([UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.write([UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.write([UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.write(byte: b)
            }
        }
        out.write(byte: UInt8(ascii: "\""))
    }

    /// A field value: numbers as JSON numbers, devices as "MAJ:MIN".
    static func value(_ value: FieldValue, to out: OutputStream) {
        switch value {
        case .signed(let v): out.write(decimal: v)
        case .unsigned(let v): out.write(decimal: v)
        case .string(let s): string(s, to: out)
        case .device(let d): string(d.description, to: out)
        }
    }
}


extension JSONBytes {
    /// `["a", "b"]`.
    static func strings(_ list: [String], to out: OutputStream) {
        out.write("[")
        for (i, s) in list.enumerated() {
            if i > 0 { out.write(", ") }
            string(s, to: out)
        }
        out.write("]")
    }

    /// An object's state history (`replay`, `diff`): `[{"event", "ts_ns", "transition", "state"}, …]`.
    static func stateChanges(_ changes: [StateChange], to out: OutputStream) {
        out.write("[")
        for (i, c) in changes.enumerated() {
            if i > 0 { out.write(", ") }
            out.write("{\"event\": "); out.write(decimal: UInt64(c.eventIndex))
            out.write(", \"ts_ns\": "); out.write(decimal: c.timestamp)
            out.write(", \"transition\": "); JSONBytes.string(c.transition, to: out)
            out.write(", \"state\": "); JSONBytes.string(c.state, to: out)
            out.write("}")
        }
        out.write("]")
    }
}
