/// System calls wbreplay cares about, from `sys_enter_NAME` / `sys_exit_NAME`.
public enum SyscallEvent: Sendable, Equatable {
    case enter(Syscall, arguments: SyscallArguments)
    case exit(Syscall, ret: Int64)

    public var syscall: Syscall {
        switch self {
        case .enter(let s, _), .exit(let s, _): return s
        }
    }
}

/// The syscall, by name; the ones with an ordering role are cases.
public enum Syscall: Hashable, Sendable, CustomStringConvertible {
    case fsync, fdatasync, msync, ftruncate, fallocate, syncFileRange, pwrite64, renameat2, unlinkat
    case ioctl
    case other(String)

    public init(name: String) {
        switch name {
        case "fsync": self = .fsync
        case "fdatasync": self = .fdatasync
        case "msync": self = .msync
        case "ftruncate": self = .ftruncate
        case "fallocate": self = .fallocate
        case "sync_file_range": self = .syncFileRange
        case "pwrite64": self = .pwrite64
        case "renameat2": self = .renameat2
        case "unlinkat": self = .unlinkat
        case "ioctl": self = .ioctl
        default: self = .other(name)
        }
    }

    public var name: String {
        switch self {
        case .fsync: return "fsync"
        case .fdatasync: return "fdatasync"
        case .msync: return "msync"
        case .ftruncate: return "ftruncate"
        case .fallocate: return "fallocate"
        case .syncFileRange: return "sync_file_range"
        case .pwrite64: return "pwrite64"
        case .renameat2: return "renameat2"
        case .unlinkat: return "unlinkat"
        case .ioctl: return "ioctl"
        case .other(let n): return n
        }
    }

    public var description: String { name }
}

/// The arguments wbreplay reads; absent ones are nil (the format of that
/// syscall has no such field), never zero.
public struct SyscallArguments: Hashable, Sendable {
    public var fd: Int64?
    public var ioctl: IoctlCommand?
    public var offset: Int64?
    public var length: Int64?

    public init(fd: Int64? = nil, ioctl: IoctlCommand? = nil, offset: Int64? = nil, length: Int64? = nil) {
        self.fd = fd
        self.ioctl = ioctl
        self.offset = offset
        self.length = length
    }
}

/// An ioctl command. Callers may pass it sign-extended (`0xffffffffc0045877`),
/// so only the low 32 bits are compared (the kernel's `cmd` is an unsigned int).
public enum IoctlCommand: Hashable, Sendable {
    /// FIFREEZE, `_IOWR('X', 119, int)`.
    case freeze
    /// FITHAW, `_IOWR('X', 120, int)`.
    case thaw
    case other(UInt32)

    public static let fifreeze: UInt32 = 0xC004_5877
    public static let fithaw: UInt32 = 0xC004_5878

    public init(raw: UInt64) {
        let low = UInt32(truncatingIfNeeded: raw)
        switch low {
        case Self.fifreeze: self = .freeze
        case Self.fithaw: self = .thaw
        default: self = .other(low)
        }
    }
}
