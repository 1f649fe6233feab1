import KernelEvents
import TraceIO

/// One folio of an inode's page cache, as the filemap events show it.
struct CachedFolio: Hashable {
    var index: UInt64
    var order: UInt8
    var pfn: UInt64
    /// The `mm_filemap_add_to_page_cache` that brought it in.
    var added: Int

    var pages: Range<UInt64> { index..<(index + (1 << UInt64(order))) }
    var bytes: UInt64 { 4096 << UInt64(order) }
}

extension TraceIndex {
    /// The folios of `inode` in the page cache just before time `t`
    /// (added and not yet deleted, as the trace shows it).
    func cachedFolios(_ inode: InodeKey, before t: UInt64) -> [CachedFolio] {
        var cache: [UInt64: CachedFolio] = [:]
        for i in 0..<count where events[i].timestamp < t {
            switch typed[i] {
            case .filemap(.addToPageCache(let ref, let index, let order)) where ref == inode:
                cache[index] = CachedFolio(index: index, order: order, pfn: events[i].fields.uint("pfn") ?? 0, added: i)
            case .filemap(.deleteFromPageCache(let ref, let index, _)) where ref == inode:
                cache[index] = nil
            case .ext4(.freeInode(let ref)) where ref == inode:
                cache = [:]
            default: break
            }
        }
        return cache.values.sorted { $0.index < $1.index }
    }

    /// The folio of the page cache that holds `page` just before `t` (its
    /// first page is what writeback events name), or the page itself.
    func folioIndex(_ inode: InodeKey, page: UInt64, before t: UInt64) -> UInt64 {
        cachedFolios(inode, before: t).first { $0.pages.contains(page) }?.index ?? page
    }

    /// The first page-cache event of `inode` on `pages` after `t`, if any:
    /// what a later part of the trace expects the cache to hold there.
    func nextPageCacheEvent(_ inode: InodeKey, pages: Range<UInt64>, after t: UInt64) -> (position: Int, adds: Bool)? {
        for i in firstIndex(atOrAfter: t + 1)..<count {
            switch typed[i] {
            case .filemap(.addToPageCache(let ref, let index, let order)) where ref == inode:
                if (index..<(index + (1 << UInt64(order)))).overlaps(pages) { return (i, true) }
            case .filemap(.deleteFromPageCache(let ref, let index, let order)) where ref == inode:
                if (index..<(index + (1 << UInt64(order)))).overlaps(pages) { return (i, false) }
            default: break
            }
        }
        return nil
    }

    /// Events after `t` that use the inode's folios in `pages` as cached
    /// (dirtying, waiting on writeback, faults, reads, releases) before any
    /// event brings them back into the page cache.
    func usesOfFolios(_ inode: InodeKey, pages: Range<UInt64>, after t: UInt64, waitsUntil: UInt64 = 0) -> Int? {
        for i in firstIndex(atOrAfter: t + 1)..<count {
            // Waits that end with the site's release are the removal's own business.
            if case .writeback(.waitOnWriteback) = typed[i], events[i].timestamp <= waitsUntil { continue }
            switch typed[i] {
            case .filemap(.addToPageCache(let ref, let index, _)) where ref == inode && pages.contains(index):
                return nil
            case .writeback(.dirtyFolio(_, let ino, let index)) where ino == inode.ino && pages.contains(index),
                 .writeback(.waitOnWriteback(_, let ino, let index)) where ino == inode.ino && pages.contains(index):
                return i
            case .filemap(.deleteFromPageCache(let ref, let index, _)) where ref == inode && pages.contains(index),
                 .ext4(.releaseFolio(let ref, let index)) where ref == inode && pages.contains(index),
                 .ext4(.invalidateFolio(let ref, let index, _, _)) where ref == inode && pages.contains(index):
                return i
            default: break
            }
        }
        return nil
    }
}
