import TraceIO

// Memory pressure and reading a folio back (seed 000).

extension WritebackModel {
    /// `shrink_folio_list` → `__remove_mapping`: a folio that is clean, not
    /// under writeback, unlocked and unmapped leaves the page cache. ≥3.11 a
    /// folio of an unconverted io_end is still under writeback and stays.
    func shrinkFolioList(_ folio: FolioRef, _ s: inout ModelState) -> Blocker? {
        if let r = live(folio.inode, s) { return r }
        guard let f = s.folio(folio) else { return .folioNotCached(folio) }
        if f.dirty { return .folioDirty(folio) }
        if f.writeback { return .folioUnderWriteback(folio) }
        if let holder = f.lockedBy { return .folioLocked(folio, holder: holder) }
        if f.pte != .none { return .folioMapped(folio) }
        s.inodes[folio.inode]!.folios[folio.index] = nil
        return nil
    }

    /// `ext4_read_folio` / `ext4_mpage_readpages`: read the folio from disk.
    /// An unwritten block reads as zeros whatever the disk holds.
    func ext4ReadFolio(_ actor: ActorRef, _ folio: FolioRef, _ s: inout ModelState) -> Blocker? {
        if case .task(let id) = actor, let r = idle(id, s) { return r }
        if let r = live(folio.inode, s) { return r }
        guard s.folio(folio) == nil else { return .folioCached(folio) }
        s.inodes[folio.inode]!.folios[folio.index] = FolioState()
        return nil
    }
}
