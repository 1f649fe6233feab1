/// Checks one option of a trace.dat's options (v6: the "options" block; v7:
/// the OPTIONS sections) before libtracecmd parses it.
///
/// Why: libtracecmd 3.1.6's `handle_options` reads each option into a buffer
/// of exactly its size and then trusts the contents: it `strtoll`s, `strdup`s
/// and `strtok_r`s date, offset, clock, uname and version strings that need
/// not end inside the option; writes `buf[size-1]` of a CPU-stats option of
/// size 0; dereferences the NULL that `tracecmd_create_event_hook` returns for
/// a hook it cannot parse (FuzzDatReader's find: the DONE option of a v7
/// seed changed into a HOOK); and walks a guest option's CPU list past its
/// end when the guest name fills the option. Each is checked against what
/// trace-cmd writes (trace-cmd.dat.v7(5)); event hooks (`trace-cmd record -H`)
/// are refused outright, since no check of libtracecmd's hook parser is
/// possible short of copying it, and so are latency traces (a text buffer
/// option): they hold no records to read.
enum DatOptionCheck {
    /// Linux's largest NR_CPUS (x86 MAXSMP): a CPU id or count past it is damage,
    /// and libtracecmd allocates per CPU up to the largest id it is given.
    static let maximumCPUs: UInt64 = 8192

    /// `sectioned`: a v7 file (its BUFFER options carry a clock and the CPU list).
    static func check(id: UInt64, data: [UInt8], bigEndian: Bool, sectioned: Bool) throws(DatDamage) {
        func number(_ at: Int, _ width: Int) -> UInt64 {
            DatByteSource.number(data[at..<(at + width)], bigEndian: bigEndian)
        }
        func terminated(_ what: String) throws(DatDamage) {
            guard data.contains(0) else { throw DatDamage("its \(what) option is not a terminated string") }
        }
        switch id {
        case 1: try terminated("date")
        case 7: try terminated("offset")
        case 4: try terminated("trace clock")
        case 5: try terminated("uname")
        case 9: try terminated("version")
        case 2, 10:  // CPUSTAT, PROCMAPS: libtracecmd touches the last byte
            guard !data.isEmpty else { throw DatDamage("an empty \(id == 2 ? "CPU stats" : "process maps") option") }
        case 6:
            throw DatDamage("it has an event hook option (trace-cmd record -H), which is not supported")
        case 22:  // BUFFER_TEXT: latency-tracer output, text not records
            throw DatDamage("it holds a latency trace (a text buffer), which is not supported")
        case 8:  // CPUCOUNT
            guard data.count >= 4 else { throw DatDamage("its CPU count option has \(data.count) bytes") }
            guard number(0, 4) <= maximumCPUs else { throw DatDamage("its CPU count option says \(number(0, 4)) CPUs") }
        case 3:  // BUFFER: offset (8), name, clock, page size (4), CPU count (4), per CPU id (4), offset, size (8 each)
            // libtracecmd's save_read_string strdups the name and clock
            // before it checks their length (FuzzDatReader's find: a clock
            // running to the end of the option).
            guard data.count >= 8 else { return }  // its bounded number read refuses it
            guard let nameEnd = data.dropFirst(8).firstIndex(of: 0) else {
                throw DatDamage("a buffer option's name is not a terminated string")
            }
            guard sectioned else { return }
            guard let clockEnd = data[(nameEnd + 1)...].firstIndex(of: 0) else {
                throw DatDamage("a buffer option's clock is not a terminated string")
            }
            var p = clockEnd + 1 + 4
            guard p + 4 <= data.count else { return }
            let cpus = number(p, 4)
            p += 4
            guard cpus <= maximumCPUs else { throw DatDamage("a buffer option lists \(cpus) CPUs") }
            for _ in 0..<cpus {
                guard p + 20 <= data.count else { return }
                let cpu = number(p, 4)
                guard cpu < maximumCPUs else { throw DatDamage("a buffer option lists CPU \(cpu)") }
                p += 20
            }
        case 13:  // GUEST: name, trace id (8), CPU count (4), per CPU id and pid (4 each)
            guard let nameEnd = data.firstIndex(of: 0) else { throw DatDamage("its guest option has no terminated name") }
            let rest = data.count - (nameEnd + 1)
            guard rest >= 12 else { throw DatDamage("its guest option is cut off") }
            let vcpus = number(nameEnd + 1 + 8, 4)
            guard vcpus <= maximumCPUs, UInt64(rest - 12) >= vcpus * 8 else {
                throw DatDamage("its guest option lists \(vcpus) CPUs in \(rest - 12) bytes")
            }
        default:
            break
        }
    }
}
