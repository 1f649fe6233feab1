/// The tracefs filter that keeps one event to one file system, chosen from
/// the fields the event declares (not from a list of event names, so it also
/// covers events a newer kernel adds):
/// - a `dev_t dev` field (ext4, jbd2, iomap, writeback inode events): the
///   file system's device; block events store the whole disk, so they match
///   either number;
/// - a `dev_t s_dev` field (filemap): the file system's device;
/// - a writeback `char name[]`/`char bdi[]` (the backing device's name,
///   "MAJ:MIN" of the disk): that name.
/// Events with none of these (syscalls, workqueue, sched, global writeback
/// state) stay unfiltered; the analysis ties them to the device through pids
/// and inodes.
public struct DeviceFilter: Sendable, Equatable {
    public var device: RecordedDevice

    public init(device: RecordedDevice) { self.device = device }

    /// The filter expression for an event of `system` with these fields, or `nil`.
    public func expression(system: String, fields: EventFormatFields) -> String? {
        let fs = device.fsDevice.kernelEncoded
        let disk = device.diskDevice.kernelEncoded
        if let dev = fields.field("dev"), isDevT(dev) {
            if system == "block", disk != fs { return "dev == \(fs) || dev == \(disk)" }
            return "dev == \(fs)"
        }
        if let sdev = fields.field("s_dev"), isDevT(sdev) {
            return "s_dev == \(fs)"
        }
        if system == "writeback" {
            for name in ["name", "bdi"] {
                if let f = fields.field(name), f.isArray, f.type.hasSuffix("char") {
                    return "\(name) == \"\(device.diskDevice)\""
                }
            }
        }
        return nil
    }

    private func isDevT(_ field: EventFormatFields.Field) -> Bool {
        !field.isArray && field.type.hasSuffix("dev_t")
    }
}
