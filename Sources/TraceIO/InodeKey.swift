/// An inode as a trace names it: the device of its file system and its number.
/// (Inode numbers are reused; the typed-event layer adds a generation.)
public struct InodeKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var dev: DeviceNumber
    public var ino: UInt64

    public init(dev: DeviceNumber, ino: UInt64) {
        self.dev = dev
        self.ino = ino
    }

    public var description: String { "\(dev):\(ino)" }

    public static func < (a: InodeKey, b: InodeKey) -> Bool { (a.dev, a.ino) < (b.dev, b.ino) }
}

extension TraceEvent {
    /// The field names under which tracepoints carry a device or an inode.
    /// ext4, jbd2 and block events use `dev`; filemap uses `s_dev` and `i_ino`;
    /// writeback folio/inode events name the bdi (`name`, "MAJ:MIN") instead of a device.
    public static let deviceFieldNames: Set<String> = ["dev", "s_dev", "name"]
    public static let inodeFieldNames: Set<String> = ["ino", "i_ino"]

    /// The device this event is about, if it names one.
    public var device: DeviceNumber? {
        if let d = fields.device("dev") ?? fields.device("s_dev") { return d }
        // writeback_* events print the bdi name, which for a block device is "MAJ:MIN".
        if let bdi = fields.string("name") { return DeviceNumber(bdi) }
        return nil
    }

    /// The inode this event is about, if it names both a device and an inode number.
    public var inode: InodeKey? {
        guard let dev = device, let ino = fields.uint("ino") ?? fields.uint("i_ino") else { return nil }
        return InodeKey(dev: dev, ino: ino)
    }
}
