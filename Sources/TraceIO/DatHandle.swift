import CTrace
import Glibc
import Synchronization

/// One open trace.dat: libtracecmd's handle for the file's top-level buffer
/// (which owns the options and the event formats) and the handle the events
/// are read from — the top level itself or a buffer instance
/// (`trace-cmd extract -B NAME`).
///
/// A handle reads with a file offset, page cache and decompression context of
/// its own, so it must be used by one thread at a time; parallel readers open
/// one each. It is `@unchecked Sendable` only so that a blocked caller can hand
/// its handle to one worker thread (`DatParallelReading`).
///
/// Why the data handle is renewable: libtracecmd 3.1.x never frees the chunks
/// it decompresses from a compressed (v7 zstd/zlib) file — its `free_zpage()`
/// compares the page with the chunk the wrong way round (fixed upstream in
/// "libtracecmd: Fix free_zpage() offset", after 3.1.6) — so a handle's memory
/// grows with the data read, and every page free walks the whole chunk list.
/// Closing the handle frees them; readers therefore replace the data handle
/// every `renewalBytes` of records and continue at the same record offsets.
final class DatHandle: @unchecked Sendable {
    let path: String
    /// The top-level buffer: options (uname, cpustats), formats, kallsyms.
    let top: OpaquePointer
    /// The handle records are read from; replaced by `renewData()`.
    private(set) var data: OpaquePointer
    let buffer: Buffer
    /// Formats and symbols for decoding; records of a renewed data handle are
    /// decoded with it too (same file, same formats).
    let tep: OpaquePointer
    let cpuCount: Int
    /// The ring-buffer page size of the buffer read (`tracecmd_page_size`).
    let pageSize: Int
    /// Whether the CPU data is compressed, i.e. whether renewal is needed.
    let isCompressed: Bool
    /// Where the file's own sections say every CPU's pages are, as the
    /// trace.dat checks found them (`DatPageReading` reads them).
    let streams: DatStreamLayout

    /// Where the events of a file are, decided once at open and then reused by
    /// every parallel reader of the same file.
    enum Buffer: Sendable, Equatable {
        case topLevel
        case instance(index: Int, name: String)

        var name: String? {
            if case .instance(_, let name) = self { return name }
            return nil
        }
    }

    /// Opens `path` and picks the buffer to read: `requested` by name, else the
    /// top level when it has events, else the one instance that has events.
    /// `openProbe: false` (fuzz target only, see `DatReader`) skips `DatOpenProbe`.
    convenience init(path: String, requested: String?, openProbe: Bool = true) throws {
        let (top, streams) = try DatHandle.openTop(path: path, probed: !openProbe)
        let buffer: Buffer
        do {
            buffer = try DatHandle.chooseBuffer(top: top, path: path, requested: requested)
        } catch {
            tracecmd_close(top)
            throw error
        }
        try self.init(path: path, top: top, streams: streams, buffer: buffer)
    }

    /// Opens `path` again for another reader of the buffer chosen before.
    convenience init(path: String, buffer: Buffer) throws {
        let (top, streams) = try DatHandle.openTop(path: path, probed: true)
        try self.init(path: path, top: top, streams: streams, buffer: buffer)
    }

    private init(path: String, top: OpaquePointer, streams: DatStreamLayout, buffer: Buffer) throws {
        self.path = path
        self.top = top
        self.streams = streams
        self.buffer = buffer
        do {
            data = try DatHandle.openData(top: top, buffer: buffer, path: path)
        } catch {
            tracecmd_close(top)
            throw error
        }
        guard let tep = tracecmd_get_tep(top) else {
            if data != top { tracecmd_close(data) }
            tracecmd_close(top)
            throw TraceError.corrupt(path: path, reason: "no event formats in the file")
        }
        self.tep = tep
        cpuCount = max(0, Int(tracecmd_cpus(data)))
        pageSize = Int(tracecmd_page_size(data))
        var name: UnsafePointer<CChar>?
        var version: UnsafePointer<CChar>?
        isCompressed = tracecmd_get_file_compress_proto(top, &name, &version) == 0
            && name.map { String(cString: $0) != "none" } ?? false
    }

    deinit {
        // An instance handle holds a reference on its parent: close it first.
        if data != top { tracecmd_close(data) }
        tracecmd_close(top)
    }

    var instanceName: String? { buffer.name }

    /// The file's format version from its header.
    var fileVersion: Int { Int(tracecmd_get_in_file_version(top)) }

    /// The first record of `cpu`, rewinding that CPU to the start of its data.
    func first(cpu: Int) -> UnsafeMutablePointer<tep_record>? {
        tracecmd_read_cpu_first(data, Int32(cpu))
    }

    /// The record after the last one read on `cpu`.
    func next(cpu: Int) -> UnsafeMutablePointer<tep_record>? {
        tracecmd_read_data(data, Int32(cpu))
    }

    /// The record at `offset` of `cpu` (an offset taken from a record read
    /// before), after which `next(cpu:)` continues.
    func record(cpu: Int, at offset: UInt64) -> UnsafeMutablePointer<tep_record>? {
        guard tracecmd_set_cursor(data, Int32(cpu), offset) == 0 else { return nil }
        return tracecmd_read_data(data, Int32(cpu))
    }

    /// Replaces the data handle by a fresh one, releasing what libtracecmd
    /// cached (see the type's comment). Every record read from the old handle
    /// must have been freed.
    func renewData() throws {
        let fresh = try DatHandle.openData(top: top, buffer: buffer, path: path, reopenTopLevel: true)
        if data != top { tracecmd_close(data) }
        data = fresh
    }

    // MARK: - Opening

    /// libtraceevent's format parser keeps parse state in globals
    /// (`is_flag_field`, `is_symbolic_field`) and libtracecmd registers its
    /// compression protocols in a global list: opens are serialised.
    private static let openLock = Mutex<Void>(())

    /// `probed`: the file was opened in a child before (`DatOpenProbe`), so a
    /// second handle of the same file (parallel readers, renewal) skips it.
    private static func openTop(path: String, probed: Bool = false) throws -> (OpaquePointer, DatStreamLayout) {
        // The library reports problems through the thrown error, never on stderr.
        tracecmd_set_loglevel(TEP_LOG_NONE)
        tep_set_loglevel(TEP_LOG_NONE)
        // Fails early, with the precise error, for missing/empty/foreign files.
        let format = try FormatDetection.detect(path: path)
        guard case .traceDat(let version) = format else {
            throw TraceError.unrecognisedFormat(path: path)
        }
        guard version >= 6, version <= 7 else {
            throw TraceError.unreadable(path: path, reason: "trace.dat version \(version) is not supported (6 and 7 are)")
        }
        // Plugins only change how events print; fields come from the formats.
        let flags = Int32(TRACECMD_FL_LOAD_NO_PLUGINS.rawValue)
        // The probe's child opens the file while this process checks it: on
        // two cores the checks cost no time. Forked while no other thread is
        // inside libtracecmd's open (its global state would be copied
        // half-changed into the child). A process that guards its opens
        // (DatOpenGuard) needs no probe.
        let probe = probed || DatOpenGuard.isInstalled
            ? nil : try openLock.withLock { _ in try DatOpenProbe.start(path: path, flags: flags) }
        var laterPages: DatV7LaterPages.Running?
        let streams: DatStreamLayout
        do {
            if version == 6 {
                streams = try DatV6Truncation.check(path: path)
            } else {
                try DatV7Header.check(path: path)
                // The pages only reading needs are checked on another thread
                // while libtracecmd opens the file (see DatV7LaterPages).
                let checked = try DatV7Chunks.checkForReading(path: path)
                laterPages = checked.laterPages.start()
                streams = checked.streams
            }
        } catch {
            // The checks' error names the damage; the child's verdict would not.
            probe?.cancel()
            throw error
        }
        // A damaged page is a more precise error than what libtracecmd makes of it.
        func preferringPageDamage(_ error: any Error) -> any Error {
            do { try laterPages?.finish() } catch let damage { return damage }
            return error
        }
        do { try probe?.finish() } catch { throw preferringPageDamage(error) }
        guard let handle = openLock.withLock({ _ in DatOpenGuard.opening(path) { tracecmd_open(path, flags) } }) else {
            throw preferringPageDamage(TraceError.corrupt(path: path, reason: "libtracecmd cannot open it (truncated or damaged trace.dat v\(version))"))
        }
        do {
            try laterPages?.finish()
        } catch {
            tracecmd_close(handle)
            throw error
        }
        return (handle, streams)
    }

    /// The handle for the data of `buffer`: an instance handle (cheap: it
    /// shares the parent's formats), or for the top level the top handle
    /// itself, or a fresh open of the file when renewing.
    private static func openData(
        top: OpaquePointer, buffer: Buffer, path: String, reopenTopLevel: Bool = false
    ) throws -> OpaquePointer {
        switch buffer {
        case .topLevel:
            return reopenTopLevel ? try openTop(path: path, probed: true).0 : top
        case .instance(let index, let name):
            // Under the lock so that guarded opens are one at a time.
            // (Addresses cross the lock's closure as integers: pointers are not Sendable.)
            let parent = Int(bitPattern: top)
            let opened = openLock.withLock { _ in
                DatOpenGuard.opening(path) {
                    Int(bitPattern: tracecmd_buffer_instance_handle(OpaquePointer(bitPattern: parent), Int32(index)))
                }
            }
            guard let handle = OpaquePointer(bitPattern: opened) else {
                throw TraceError.corrupt(path: path, reason: "cannot read the data of buffer instance \"\(name)\" (truncated or damaged file)")
            }
            return handle
        }
    }

    private static func chooseBuffer(top: OpaquePointer, path: String, requested: String?) throws -> Buffer {
        let count = Int(tracecmd_buffer_instances(top))
        var names: [String] = []
        for index in 0..<count {
            names.append(tracecmd_buffer_instance_name(top, Int32(index)).map { String(cString: $0) } ?? "")
        }
        if let requested {
            if requested.isEmpty { return .topLevel }
            guard let index = names.firstIndex(of: requested) else {
                let known = names.isEmpty ? "none" : names.joined(separator: ", ")
                throw TraceError.unreadable(path: path, reason: "no buffer instance \"\(requested)\" (instances in the file: \(known))")
            }
            return .instance(index: index, name: requested)
        }
        if hasEvents(top) || count == 0 { return .topLevel }
        var withEvents: [Buffer] = []
        for index in 0..<count {
            let buffer = Buffer.instance(index: index, name: names[index])
            let handle = try openData(top: top, buffer: buffer, path: path)
            if hasEvents(handle) { withEvents.append(buffer) }
            tracecmd_close(handle)
        }
        switch withEvents.count {
        case 0: return .topLevel
        case 1: return withEvents[0]
        default:
            let listed = withEvents.compactMap(\.name).joined(separator: ", ")
            throw TraceError.unreadable(path: path, reason: "events in several buffer instances (\(listed)): choose one")
        }
    }

    private static func hasEvents(_ handle: OpaquePointer) -> Bool {
        let cpus = Int(tracecmd_cpus(handle))
        for cpu in 0..<max(0, cpus) where tracecmd_peek_data(handle, Int32(cpu)) != nil {
            return true
        }
        return false
    }
}
