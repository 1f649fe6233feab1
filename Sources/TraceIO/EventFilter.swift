/// Selects events by name, device and inode number, as `wbreplay events`
/// `--event`, `--dev` and `--ino` do. An empty criterion matches everything.
public struct EventFilter: Sendable {
    public var names: Set<String>
    public var device: DeviceNumber?
    public var ino: UInt64?

    public init(names: Set<String> = [], device: DeviceNumber? = nil, ino: UInt64? = nil) {
        self.names = names
        self.device = device
        self.ino = ino
    }

    public var isEmpty: Bool { names.isEmpty && device == nil && ino == nil }

    /// The fields a reader must decode for `matches` to work, on top of what
    /// the consumer asks for.
    public var requiredFields: Set<String> {
        var needed: Set<String> = []
        if device != nil { needed.formUnion(TraceEvent.deviceFieldNames) }
        if ino != nil { needed.formUnion(TraceEvent.inodeFieldNames) }
        return needed
    }

    public func matches(_ event: TraceEvent) -> Bool {
        if !names.isEmpty, !names.contains(event.name) { return false }
        if let device, event.device != device { return false }
        if let ino {
            guard let value = event.fields.uint("ino") ?? event.fields.uint("i_ino"), value == ino else {
                return false
            }
        }
        return true
    }
}
