import Glibc

/// Whether this process may use tracefs: root, or CAP_SYS_ADMIN in its
/// effective set (a container or a capability-granted binary).
enum Privileges {
    static let capSysAdmin: UInt64 = 21

    static var canTrace: Bool {
        if geteuid() == 0 { return true }
        guard let status = readSmallFile("/proc/self/status") else { return false }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst("CapEff:".count).drop { $0 == " " || $0 == "\t" }
            if let caps = UInt64(hex, radix: 16) { return caps & (1 << capSysAdmin) != 0 }
        }
        return false
    }
}
