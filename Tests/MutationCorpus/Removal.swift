import KernelEvents
import TraceIO

/// The events of removing an inode's blocks, in the order 6.x prints them
/// (each copied from a recorded event of the same name): a punch hole
/// (`fallocate(PUNCH_HOLE|KEEP_SIZE)` → `ext4_punch_hole` →
/// `truncate_pagecache_range` → `ext4_ext_remove_space`), a truncate
/// (`ftruncate` → `ext4_begin_ordered_truncate` → `truncate_pagecache` →
/// `ext4_truncate`), or the eviction of an unlinked inode (`ext4_evict_inode`
/// → `truncate_inode_pages_final` → `ext4_truncate` → `ext4_free_inode`).
struct Removal {
    enum Kind: Equatable {
        case punch(offset: UInt64, length: UInt64)
        case truncate(size: UInt64)
        case evict
    }

    var events: [TraceEvent] = []
    /// Position in `events` of `ext4_ext_remove_space` (blocks go) and `ext4_free_inode`.
    var removeSpace = 0
    var freeInode: Int?
    var evict: Int?

    /// Builds the events of `actor` from `t` on, `step` apart.
    static func make(_ kind: Kind, inode: InodeKey, blockSize: UInt64, folios: [CachedFolio], allocatedBlocks: UInt64,
                     by actor: Actor, at t: UInt64, step: UInt64, running tid: UInt64, in s: Scenario) throws -> Removal {
        var r = Removal()
        var time = t
        func add(_ name: String, _ changes: [FieldChange], where accept: (TraceEvent) -> Bool = { _ in true }) throws {
            r.events.append(try s.make(name, at: time, by: actor, [.uint("ino", inode.ino)] + changes, where: accept))
            time += step
        }
        /// Events that only some recordings carry (a caller of that call site): left out when none has.
        func addIfRecorded(_ name: String, _ changes: [FieldChange], caller: String) throws {
            guard s.factory.book.template(name, { ($0.fields.string("ip") ?? "").hasPrefix(caller) }) != nil else { return }
            try add(name, changes) { ($0.fields.string("ip") ?? "").hasPrefix(caller) }
        }
        let ino = inode.ino
        let perPage = max(1, 4096 / blockSize)
        let removedFrom: UInt64
        let removedEnd: UInt64
        switch kind {
        case .punch(let offset, let length):
            r.events.append(try s.make("sys_enter_fallocate", at: time, by: actor,
                                       [.int("fd", 3), .int("mode", 3), .uint("offset", offset), .uint("len", length)]))
            time += step
            try add("ext4_punch_hole", [.uint("offset", offset), .uint("len", length)])
            removedFrom = offset / blockSize
            removedEnd = (offset + length) / blockSize
        case .truncate(let size):
            // (the blocks past `size`)
            r.events.append(try s.make("sys_enter_ftruncate", at: time, by: actor, [.int("fd", 3), .uint("length", size)]))
            time += step
            try add("ext4_begin_ordered_truncate", [.uint("new_size", size)])
            removedFrom = (size + blockSize - 1) / blockSize
            removedEnd = 4_294_967_295
        case .evict:
            try add("ext4_drop_inode", [.int("drop", 1)])
            r.evict = r.events.count
            try add("ext4_evict_inode", [.int("nlink", 0)])
            try add("ext4_begin_ordered_truncate", [.uint("new_size", 0)])
            removedFrom = 0
            removedEnd = 4_294_967_295
        }
        // truncate_pagecache: the folios wholly inside the removed range go;
        // one the range cuts is invalidated in part and stays
        // (truncate_inode_partial_folio).
        let gone = folios.filter { f in
            f.index * perPage >= removedFrom && (f.index + (1 << UInt64(f.order))) * perPage <= removedEnd
        }
        for f in folios where !gone.contains(f) {
            let first = f.index * perPage, end = (f.index + (1 << UInt64(f.order))) * perPage
            guard first < removedEnd, end > removedFrom else { continue }
            let from = max(first, removedFrom), to = min(end, removedEnd)
            try add("ext4_invalidate_folio", [.uint("index", f.index), .uint("offset", (from - first) * blockSize),
                                              .uint("length", (to - from) * blockSize)])
        }
        for f in gone {
            try add("ext4_invalidate_folio", [.uint("index", f.index), .uint("offset", 0), .uint("length", f.bytes)])
            try add("ext4_release_folio", [.uint("index", f.index)])
        }
        for f in gone {
            r.events.append(try s.make("mm_filemap_delete_from_page_cache", at: time, by: actor,
                                       [.uint("i_ino", ino), .uint("index", f.index), .uint("order", UInt64(f.order)), .uint("pfn", f.pfn)]))
            time += step
        }
        let caller: String
        switch kind {
        case .punch: caller = "ext4_punch_hole"
        case .truncate: caller = "ext4_truncate"
        case .evict: caller = "ext4_evict_inode"
        }
        if case .punch = kind {} else {
            try add("ext4_truncate_enter", [.uint("blocks", allocatedBlocks * (blockSize / 512))])
        }
        try addIfRecorded("ext4_journal_start_inode", [.int("type", 5)], caller: caller)
        r.events.append(try s.make("jbd2_handle_start", at: time, by: actor, [.uint("tid", tid), .int("type", 5)]) {
            $0.fields.int("type") == 5
        })
        time += step
        let end = removedEnd - 1
        try add("ext4_es_remove_extent", [.int("lblk", Int64(removedFrom)), .int("len", Int64(removedEnd - removedFrom))])
        r.removeSpace = r.events.count
        try add("ext4_ext_remove_space", [.uint("start", removedFrom), .uint("end", end)])
        try add("ext4_ext_remove_space_done", [.uint("start", removedFrom), .uint("end", end)])
        switch kind {
        case .punch:
            r.events.append(try s.make("sys_exit_fallocate", at: time, by: actor, [.int("ret", 0)]))
        case .truncate:
            try add("ext4_truncate_exit", [.uint("blocks", removedFrom * (blockSize / 512))])
            r.events.append(try s.make("sys_exit_ftruncate", at: time, by: actor, [.int("ret", 0)]))
        case .evict:
            try add("ext4_truncate_exit", [.uint("blocks", 0)])
            r.freeInode = r.events.count
            try add("ext4_free_inode", [.uint("blocks", 0)])
        }
        return r
    }
}

extension TraceIndex {
    /// The blocks the inode had allocated as far as the trace shows (the
    /// highest logical block it mapped), for `ext4_truncate_enter blocks`.
    func allocatedBlocks(_ inode: InodeKey) -> UInt64 {
        var end: UInt64 = 0
        for k in typed {
            if case .ext4(.mapBlocksExit(let ref, _, let extent, _, let ret)) = k, ref == inode, ret > 0 {
                end = max(end, extent.lblk + extent.len)
            }
        }
        return end
    }
}
