import CTrace
import Glibc

/// A private tracefs instance (`instances/NAME`): its own ring buffer, event
/// enables, filters and clock, so that recording never touches the top-level
/// buffer or another tool's instance. `remove()` disables everything and
/// deletes it; callers run it on every exit path.
final class TracefsInstance {
    let name: String
    /// `/sys/kernel/tracing` (or wherever tracefs is mounted).
    let tracingDir: String
    /// `<tracingDir>/instances/<name>`.
    let dir: String
    private var handle: OpaquePointer?

    /// Finds tracefs, mounting it if it is not mounted (libtracefs does that).
    /// Returns the directory and whether this call mounted it, so that the
    /// recorder can unmount it again and leave the system as it found it.
    static func locateTracefs() throws -> (dir: String, mountedByUs: Bool) {
        let before = MountTable.current().contains { $0.fsType == "tracefs" }
        guard let dir = tracefs_tracing_dir() else { throw RecordError.tracefsUnavailable }
        let path = String(cString: dir)
        guard access(path + "/instances", F_OK) == 0 else { throw RecordError.tracefsUnavailable }
        return (path, !before)
    }

    /// Creates instance `name`. A leftover instance of that name (a crashed
    /// recorder with the same pid) is removed first.
    init(name: String, tracingDir: String) throws {
        self.name = name
        self.tracingDir = tracingDir
        self.dir = tracingDir + "/instances/" + name
        if tracefs_instance_exists(name) {
            if let stale = tracefs_instance_alloc(nil, name) {
                _ = tracefs_instance_destroy(stale)
                tracefs_instance_free(stale)
            }
        }
        guard let handle = tracefs_instance_create(name) else {
            throw RecordError.tracefs(operation: "create instance \(name)", reason: String(cString: strerror(errno)))
        }
        self.handle = handle
    }

    deinit { remove() }

    /// Deletes instances `<prefix><pid>` whose recorder no longer runs: one
    /// killed with SIGKILL could not clean up, and each holds its ring buffers'
    /// memory until someone removes it.
    static func removeAbandoned(prefix: String, tracingDir: String) {
        for name in listSubdirectories(tracingDir + "/instances") where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid > 0,
                  kill(pid, 0) != 0, errno == ESRCH,
                  let stale = tracefs_instance_alloc(tracingDir, name) else { continue }
            _ = tracefs_trace_off(stale)
            _ = tracefs_instance_file_write(stale, "events/enable", "0")
            _ = tracefs_instance_destroy(stale)
            tracefs_instance_free(stale)
        }
    }

    var pointer: OpaquePointer? { handle }

    /// Writes `value` to a file of the instance (`events/ext4/enable`, `trace_clock`, …).
    func write(_ file: String, _ value: String) throws {
        guard let handle else { throw RecordError.tracefs(operation: "write \(file)", reason: "instance removed") }
        if tracefs_instance_file_write(handle, file, value) < 0 {
            let reason = String(cString: strerror(errno))
            throw RecordError.tracefs(operation: "write '\(value)' to \(name)/\(file)", reason: reason)
        }
    }

    /// Reads a file of the instance, `nil` if it cannot be read.
    func read(_ file: String) -> String? {
        readSmallFile(dir + "/" + file)
    }

    func exists(_ relative: String) -> Bool { access(dir + "/" + relative, F_OK) == 0 }

    /// The subdirectories of `relative` (event systems, events of a system).
    func subdirectories(_ relative: String) -> [String] {
        listSubdirectories(dir + "/" + relative)
    }

    /// The clocks the kernel offers, from `trace_clock` (`[local] global mono …`).
    func availableClocks() -> [String] {
        (read("trace_clock") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
            .map { $0.trimmingCharacters(in: "[]") }
    }

    /// Stops recording, disables every event and deletes the instance. Safe
    /// to call more than once. The kernel refuses to delete an instance while
    /// one of its files is open, so the streamer closes its per-CPU files first.
    func remove() {
        guard let handle else { return }
        _ = tracefs_trace_off(handle)
        _ = tracefs_instance_file_write(handle, "events/enable", "0")
        var destroyed = tracefs_instance_destroy(handle) == 0
        var attempts = 0
        while !destroyed, errno == EBUSY, attempts < 50 {
            usleep(20_000)
            attempts += 1
            destroyed = tracefs_instance_destroy(handle) == 0
        }
        tracefs_instance_free(handle)
        self.handle = nil
    }
}

func listSubdirectories(_ path: String) -> [String] {
    guard let d = opendir(path) else { return [] }
    defer { closedir(d) }
    var names: [String] = []
    while let entry = readdir(d) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        if name == "." || name == ".." { continue }
        var st = stat()
        if stat(path + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { names.append(name) }
    }
    return names.sorted()
}

extension Substring {
    func trimmingCharacters(in chars: String) -> String {
        String(drop { chars.contains($0) }.reversed().drop { chars.contains($0) }.reversed())
    }
}
