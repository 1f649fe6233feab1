/// The `rwbs` string of block events, decoded (`blk_fill_rwbs`, block/blktrace.c):
/// an optional `F` for PREFLUSH, then the operation (`W`, `R`, `D` discard,
/// `E` secure erase, `F` flush, `N` none), then `F` for FUA, `A` readahead,
/// `S` sync, `M` metadata.
public struct RWBS: Hashable, Sendable, CustomStringConvertible {
    public enum Operation: Hashable, Sendable { case write, read, discard, secureErase, flush, none, unknown }

    public var text: String
    public var operation: Operation
    public var preflush: Bool
    public var fua: Bool
    public var sync: Bool
    public var meta: Bool

    public init(_ text: String) {
        self.text = text
        // The string's own bytes (rwbs is short, kept inline): an Array of
        // them would be an allocation per block event.
        var bytes = text.utf8[...]
        preflush = false
        // "F" first is PREFLUSH unless it is the whole operation ("F", "FF" is PREFLUSH + FLUSH op).
        if bytes.count >= 2, bytes.first == UInt8(ascii: "F") {
            preflush = true
            bytes = bytes.dropFirst()
        }
        switch bytes.first {
        case UInt8(ascii: "W"): operation = .write
        case UInt8(ascii: "R"): operation = .read
        case UInt8(ascii: "D"): operation = .discard
        case UInt8(ascii: "E"): operation = .secureErase
        case UInt8(ascii: "F"): operation = .flush
        case UInt8(ascii: "N"): operation = .none
        default: operation = .unknown
        }
        let rest = bytes.dropFirst()
        fua = rest.contains(UInt8(ascii: "F"))
        sync = rest.contains(UInt8(ascii: "S"))
        meta = rest.contains(UInt8(ascii: "M"))
    }

    public var isFlush: Bool { operation == .flush }
    public var carriesData: Bool { operation == .write || operation == .read }
    public var description: String { text }
}
