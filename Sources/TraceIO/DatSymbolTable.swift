import CTrace

/// Kernel addresses to symbol text, through the kallsyms the trace.dat carries
/// (libtraceevent's function map). A trace has a handful of distinct work
/// functions and call sites, so results are cached per address.
struct DatSymbolTable {
    let tep: OpaquePointer
    private var names: [UInt64: String] = [:]
    private var namesWithOffset: [UInt64: String] = [:]

    init(tep: OpaquePointer) { self.tep = tep }

    /// What the kernel's `%ps` (`name`) or `%pS` (`name+0xoff`) prints for
    /// `address`; an address outside kallsyms prints as `0x…`, as the kernel does.
    mutating func text(for address: UInt64, style: DatSymbolFields.Style) -> String {
        switch style {
        case .name:
            if let cached = names[address] { return cached }
            let text = lookUp(address, withOffset: false)
            names[address] = text
            return text
        case .nameAndOffset:
            if let cached = namesWithOffset[address] { return cached }
            let text = lookUp(address, withOffset: true)
            namesWithOffset[address] = text
            return text
        }
    }

    /// Under `DatRecordDecoder.tepLock`: decoders of several threads may
    /// share the handle.
    private func lookUp(_ address: UInt64, withOffset: Bool) -> String {
        DatRecordDecoder.tepLock.run { lookUpLocked(address, withOffset: withOffset) }
    }

    private func lookUpLocked(_ address: UInt64, withOffset: Bool) -> String {
        guard address != 0, let name = tep_find_function(tep, address) else {
            return "0x" + String(address, radix: 16)
        }
        let symbol = String(cString: name)
        // libtraceevent names the nearest symbol below any address; the kernel
        // (without CONFIG_KALLSYMS_ALL) only names code and prints data
        // addresses — iomap's `ops` is a const struct in .rodata — as hex.
        // Such an address's nearest symbol is a section marker.
        if DatSymbolTable.isSectionMarker(symbol) { return "0x" + String(address, radix: 16) }
        guard withOffset else { return symbol }
        let start = tep_find_function_address(tep, address)
        guard address > start else { return symbol }
        return symbol + "+0x" + String(address - start, radix: 16)
    }

    /// Linker symbols that mark where a section begins or ends, not code:
    /// `__start_rodata`, `__stop___ex_table`, `_etext`, `_edata`, ….
    static func isSectionMarker(_ symbol: String) -> Bool {
        if symbol.hasPrefix("__start_") || symbol.hasPrefix("__stop_") || symbol.hasPrefix("__end_") { return true }
        return ["_etext", "_edata", "_end", "_einittext", "_sdata", "__bss_start", "__bss_stop"].contains(symbol)
    }
}
