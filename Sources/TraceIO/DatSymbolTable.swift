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

    private func lookUp(_ address: UInt64, withOffset: Bool) -> String {
        guard address != 0, let name = tep_find_function(tep, address) else {
            return "0x" + String(address, radix: 16)
        }
        let symbol = String(cString: name)
        guard withOffset else { return symbol }
        let start = tep_find_function_address(tep, address)
        guard address > start else { return symbol }
        return symbol + "+0x" + String(address - start, radix: 16)
    }
}
