import Glibc

/// The file system a recording filters on, with the facts about its device
/// that the analysis needs and cannot find in the events.
public struct RecordedDevice: Sendable, Equatable {
    /// `st_dev` of the file system: what ext4, jbd2, filemap and the
    /// writeback inode events store.
    public var fsDevice: DeviceNumber
    /// The whole disk the file system lives on (the same number unless it is a
    /// partition): block request events and the bdi name use it.
    public var diskDevice: DeviceNumber
    /// Where it is mounted, when it is.
    public var mountPoint: String?
    /// The file system block size (`statvfs` f_bsize), when mounted.
    public var blockSize: Int?
    /// `/sys/block/<disk>/queue/stable_writes`: whether pages must not change
    /// while under writeback (checksumming devices, some loop setups).
    public var stableWrites: Bool?

    public init(fsDevice: DeviceNumber, diskDevice: DeviceNumber, mountPoint: String? = nil,
                blockSize: Int? = nil, stableWrites: Bool? = nil) {
        self.fsDevice = fsDevice
        self.diskDevice = diskDevice
        self.mountPoint = mountPoint
        self.blockSize = blockSize
        self.stableWrites = stableWrites
    }

    /// Resolves `--mount PATH` or `--dev MAJ:MIN` against this machine.
    public static func resolve(_ selection: DeviceSelection) throws -> RecordedDevice {
        let mounts = MountTable.current()
        switch selection {
        case .mount(let path):
            guard let real = realPath(path) else {
                throw RecordError.badMount(path: path, reason: "no such directory")
            }
            guard let entry = mounts.last(where: { $0.mountPoint == real }) else {
                throw RecordError.badMount(path: path, reason: "not a mount point")
            }
            return describe(entry.device, mountPoint: real)
        case .device(let dev):
            guard access("/sys/dev/block/\(dev)", F_OK) == 0 else { throw RecordError.unknownDevice(dev) }
            return describe(dev, mountPoint: mounts.first(where: { $0.device == dev })?.mountPoint)
        }
    }

    static func describe(_ dev: DeviceNumber, mountPoint: String?) -> RecordedDevice {
        var blockSize: Int?
        if let mountPoint {
            var vfs = statvfs()
            if statvfs(mountPoint, &vfs) == 0 { blockSize = Int(vfs.f_bsize) }
        }
        var disk = dev
        var stable: Bool?
        // /sys/dev/block/M:m links to the device's sysfs directory; a partition's
        // directory has a `partition` file and sits inside its disk's directory.
        if let sysDir = realPath("/sys/dev/block/\(dev)") {
            var diskDir = sysDir
            if access(sysDir + "/partition", F_OK) == 0,
               let slash = sysDir.lastIndex(of: "/") {
                diskDir = String(sysDir[..<slash])
                if let text = readSmallFile(diskDir + "/dev"), let d = DeviceNumber(trimmedLine(text)) { disk = d }
            }
            if let text = readSmallFile(diskDir + "/queue/stable_writes") {
                stable = trimmedLine(text) == "1"
            }
        }
        return RecordedDevice(fsDevice: dev, diskDevice: disk, mountPoint: mountPoint,
                              blockSize: blockSize, stableWrites: stable)
    }
}

/// `/proc/self/mountinfo`, the part the recorder needs.
struct MountTable {
    struct Entry { var device: DeviceNumber; var mountPoint: String; var fsType: String }

    static func current() -> [Entry] {
        guard let text = readSmallFile("/proc/self/mountinfo") else { return [] }
        return text.split(separator: "\n").compactMap { line in
            // id parent MAJ:MIN root mountpoint options [optional…] - fstype source superopts
            let f = line.split(separator: " ")
            guard f.count >= 7, let dev = DeviceNumber(f[2]),
                  let dash = f.firstIndex(of: "-"), dash + 1 < f.count else { return nil }
            return Entry(device: dev, mountPoint: unescapeOctal(f[4]), fsType: String(f[dash + 1]))
        }
    }

    /// mountinfo writes space, tab, newline and backslash as `\ooo`.
    static func unescapeOctal(_ s: Substring) -> String {
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "\\"), i + 3 < b.count,
               let v = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

func realPath(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
}

/// Reads a small text file (sysfs, procfs, tracefs) whole; `nil` if it cannot.
func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0, errno == EINTR { continue }
        if n <= 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: out, as: UTF8.self)
}

func trimmedLine(_ text: String) -> String {
    String(text.prefix { $0 != "\n" }).trimmingBlanks()
}

extension String {
    func trimmingBlanks() -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" }
        guard let a = firstIndex(where: { !blank($0) }), let z = lastIndex(where: { !blank($0) }) else { return "" }
        return String(self[a...z])
    }
}
