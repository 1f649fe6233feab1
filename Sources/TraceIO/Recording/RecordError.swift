/// Why a recording could not start or finish. Every case renders as one line;
/// the CLI prints it and exits 2.
public enum RecordError: Error, Sendable, CustomStringConvertible, Equatable {
    case notRoot
    case tracefsUnavailable
    case badMount(path: String, reason: String)
    case unknownDevice(DeviceNumber)
    case unknownEvents([String])
    case badClock(String, available: [String])
    case badBufferSize(Int)
    case tracefs(operation: String, reason: String)
    case commandFailed(command: String, reason: String)
    case output(path: String, reason: String)
    case usage(String)

    public var description: String {
        switch self {
        case .notRoot:
            return "record needs root (CAP_SYS_ADMIN) for tracefs"
        case .tracefsUnavailable:
            return "tracefs is not mounted and could not be mounted; run: mount -t tracefs nodev /sys/kernel/tracing"
        case .badMount(let path, let reason):
            return "\(path): \(reason)"
        case .unknownDevice(let dev):
            return "no block device \(dev) (nothing in /sys/dev/block/\(dev))"
        case .unknownEvents(let names):
            return "unknown event\(names.count == 1 ? "" : "s") on this kernel: \(names.joined(separator: ", "))"
        case .badClock(let clock, let available):
            return "unknown trace clock '\(clock)' (this kernel has: \(available.joined(separator: " ")))"
        case .badBufferSize(let kb):
            return "bad buffer size \(kb) KB per CPU (needs at least 4)"
        case .tracefs(let operation, let reason):
            return "tracefs: \(operation): \(reason)"
        case .commandFailed(let command, let reason):
            return "cannot run \(command): \(reason)"
        case .output(let path, let reason):
            return "\(path): \(reason)"
        case .usage(let message):
            return message
        }
    }
}
