/// Where the ring-buffer pages of every CPU of every buffer of a trace.dat
/// are, as the file's own sections say (the v6 flyrecord table and options,
/// the v7 BUFFER options and CPU data sections) — what the trace.dat checks
/// (`DatV6Truncation`, `DatV7Chunks`) find on their walk through the file —
/// and how its timestamps are converted (`DatClock`). `DatPageReading` reads
/// records from it without libtracecmd's iterator; `DatHandle` compares it
/// with what libtracecmd made of the same file before trusting it.
struct DatStreamLayout: Sendable {
    /// Compressed CPU data: a chunk of whole pages.
    struct Chunk: Sendable, Equatable {
        /// Where the compressed bytes start in the file.
        var fileOffset: UInt64
        var packed: UInt32
        var unpacked: UInt32
    }

    /// One CPU's data.
    struct Stream: Sendable, Equatable {
        enum Storage: Sendable, Equatable {
            /// Pages one after the other from this file offset.
            case plain(offset: UInt64)
            /// Pages in compressed chunks, in order.
            case chunks([Chunk])
        }
        var storage: Storage
        /// The bytes of pages (uncompressed), as libtracecmd's
        /// `tracecmd_get_cpu_file_size` reports them.
        var size: UInt64
        var pageSize: Int

        /// Pages libtracecmd reads: every page the data begins, the last one
        /// too when the data ends inside it.
        var pageCount: Int { pageSize > 0 ? Int((size + UInt64(pageSize) - 1) / UInt64(pageSize)) : 0 }
    }

    /// One buffer's CPU slots, indexed as libtracecmd indexes them (v7: by
    /// CPU id, with empty slots for ids the buffer lists no data for);
    /// nil: an empty CPU.
    struct Buffer: Sendable {
        var streams: [Stream?]
    }

    var bigEndian: Bool
    /// The header_page's commit word size (4 or 8).
    var commitSize: Int
    /// "none", "zstd" or "zlib".
    var compression: String
    /// The top level's timestamp conversion (instances: see `clock(for:)`).
    var clock: DatClock
    /// By name; "" is the top level.
    var buffers: [String: Buffer]
    /// v6 only: time offsets an instance's own options add to the top
    /// level's (libtracecmd reads them into the instance's copy of the handle).
    var instanceClocks: [String: DatClock] = [:]

    /// The clock of buffer `name`. libtracecmd's instance handle copies the
    /// top level's offsets and TSC conversion but not its host sync (v6:
    /// then takes in the instance's own options).
    func clock(for name: String) -> DatClock {
        guard !name.isEmpty else { return clock }
        if let own = instanceClocks[name] { return own }
        var copied = clock
        copied.hostSync = false
        return copied
    }
}

extension DatStreamLayout.Buffer {
    /// libtracecmd's per-CPU table of a v7 BUFFER option (`handle_buffer_option`):
    /// in listed order when the ids are 0…n-1 in order, else indexed by CPU id
    /// up to the largest (later entries of an id replacing an empty earlier one).
    init(listed: [(cpu: UInt64, stream: DatStreamLayout.Stream?)]) {
        let largest = listed.map(\.cpu).max()
        let inOrder = listed.enumerated().allSatisfy { UInt64($0.offset) == $0.element.cpu }
        guard let largest, !inOrder, largest < DatOptionCheck.maximumCPUs else {
            streams = listed.map(\.stream)
            return
        }
        var slots = [DatStreamLayout.Stream?](repeating: nil, count: Int(largest) + 1)
        for entry in listed where slots[Int(entry.cpu)] == nil {
            slots[Int(entry.cpu)] = entry.stream
        }
        streams = slots
    }
}
