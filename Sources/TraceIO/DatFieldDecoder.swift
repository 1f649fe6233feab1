import CTrace

/// How one field of an event format turns into a `FieldValue`, decided once per
/// event format from libtraceevent's metadata (type string, size, flags).
enum DatFieldKind: Equatable {
    case signed
    case unsigned
    /// A `dev_t` in the kernel encoding (`MKDEV(ma, mi) = ma << 20 | mi`).
    case device
    /// A fixed `char[N]`; size 0 means "to the end of the record" (ftrace's
    /// `print` event declares `char buf[]`).
    case fixedString
    /// `__data_loc char[]` (offset from record start) or `__rel_loc char[]`
    /// (offset from the end of the 4-byte locator).
    case dynamicString(relative: Bool)
    /// A code address the event prints as a kernel symbol.
    case symbol(DatSymbolFields.Style)
}

/// Where one field is and what it becomes: the part of a plan each record
/// reads. No name, so that copying one out of its format retains nothing.
struct DatFieldSlot {
    let offset: Int
    let size: Int
    let kind: DatFieldKind
}

/// One field to decode: its name and its slot.
struct DatFieldPlan {
    let name: String
    let slot: DatFieldSlot

    /// The plan for `field`, or nil for fields the reader does not expose
    /// (arrays other than strings).
    init?(_ field: UnsafeMutablePointer<tep_format_field>, symbols: [String: DatSymbolFields.Style]) {
        guard let cName = field.pointee.name else { return nil }
        name = String(cString: cName)
        let offset = Int(field.pointee.offset)
        let size = Int(field.pointee.size)
        let kind: DatFieldKind
        let flags = UInt32(truncatingIfNeeded: field.pointee.flags)
        let type = field.pointee.type.map { String(cString: $0) } ?? ""
        let isArray = flags & TEP_FIELD_IS_ARRAY.rawValue != 0
        if isArray {
            // libtraceevent marks char arrays as strings; other arrays are skipped.
            guard flags & TEP_FIELD_IS_STRING.rawValue != 0 || type.hasPrefix("char") || type.contains(" char") else {
                return nil
            }
            if flags & TEP_FIELD_IS_DYNAMIC.rawValue != 0 {
                guard size == 4 else { return nil }
                kind = .dynamicString(relative: flags & TEP_FIELD_IS_RELATIVE.rawValue != 0)
            } else {
                kind = .fixedString
            }
        } else if let style = symbols[name] {
            kind = .symbol(style)
        } else if type.contains("dev_t") {
            kind = .device
        } else if flags & TEP_FIELD_IS_SIGNED.rawValue != 0, flags & TEP_FIELD_IS_POINTER.rawValue == 0 {
            kind = .signed
        } else {
            kind = .unsigned
        }
        guard size >= 0, offset >= 0 else { return nil }
        if case .fixedString = kind {} else if size > 8 || size == 0 { return nil }
        slot = DatFieldSlot(offset: offset, size: size, kind: kind)
    }
}

/// Reads field values out of a record's payload. Every read is bounds-checked
/// against the payload size: a damaged record yields fewer fields, never a crash.
struct DatFieldReader {
    /// The file's byte order differs from the host's.
    let swapBytes: Bool

    @inline(__always)
    func unsigned(_ data: UnsafeRawPointer, _ offset: Int, _ size: Int) -> UInt64 {
        switch size {
        case 1:
            return UInt64(data.load(fromByteOffset: offset, as: UInt8.self))
        case 2:
            let v = data.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
            return UInt64(swapBytes ? v.byteSwapped : v)
        case 4:
            let v = data.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
            return UInt64(swapBytes ? v.byteSwapped : v)
        case 8:
            let v = data.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            return swapBytes ? v.byteSwapped : v
        default:
            // Odd sizes (3, 5-7 bytes) do not occur in kernel formats; read
            // them byte by byte in the file's order.
            var v: UInt64 = 0
            for i in 0..<size {
                let b = UInt64(data.load(fromByteOffset: offset + i, as: UInt8.self))
                v |= swapBytes ? b << (8 * UInt64(size - 1 - i)) : b << (8 * UInt64(i))
            }
            return v
        }
    }

    @inline(__always)
    func signed(_ data: UnsafeRawPointer, _ offset: Int, _ size: Int) -> Int64 {
        let raw = unsigned(data, offset, size)
        let shift = UInt64(64 - 8 * size)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }

    /// The bytes of a string up to its first NUL, without a final newline:
    /// trace_marker text (ftrace `print`) keeps the writer's "\n", which the
    /// text formats cannot carry, and both readers must give the same value.
    @inline(__always)
    func string(_ data: UnsafeRawPointer, _ offset: Int, _ length: Int) -> String {
        let bytes = UnsafeRawBufferPointer(start: data + offset, count: length)
        var end = bytes.firstIndex(of: 0) ?? length
        if end > 0, bytes[end - 1] == 0x0A { end -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
    }

    /// Decodes one planned field from a payload of `size` bytes; nil when the
    /// record is too short for it.
    func value(
        _ slot: DatFieldSlot, data: UnsafeRawPointer, size: Int, symbols: inout DatSymbolTable
    ) -> FieldValue? {
        switch slot.kind {
        case .fixedString:
            guard slot.offset <= size else { return nil }
            let length = slot.size == 0 ? size - slot.offset : slot.size
            guard slot.offset + length <= size else { return nil }
            return .string(string(data, slot.offset, length))
        case .dynamicString(let relative):
            guard slot.offset + 4 <= size else { return nil }
            let locator = unsigned(data, slot.offset, 4)
            var start = Int(locator & 0xFFFF)
            let length = Int(locator >> 16)
            if relative { start += slot.offset + 4 }
            guard start + length <= size else { return nil }
            return .string(string(data, start, length))
        default:
            break
        }
        guard slot.offset + slot.size <= size else { return nil }
        switch slot.kind {
        case .signed: return .signed(signed(data, slot.offset, slot.size))
        case .unsigned: return .unsigned(unsigned(data, slot.offset, slot.size))
        case .device: return .device(DeviceNumber(kernelEncoded: unsigned(data, slot.offset, slot.size)))
        case .symbol(let style):
            return .string(symbols.text(for: unsigned(data, slot.offset, slot.size), style: style))
        case .fixedString, .dynamicString: return nil
        }
    }
}
