import TraceIO

/// One step of the ext4 writeback state machine, named after the kernel
/// function it models. Each case says where that function lives; the
/// behaviour per profile is in the `WritebackModel` extensions next to the
/// effect (see `KernelProfile`). Task ids are the scenario's or the trace's.
public enum Transition: Hashable, Sendable {
    // MARK: Inode life
    /// `ext4_new_inode` [fs/ext4/ialloc.c]: a new incarnation, not yet usable.
    case ext4NewInode(task: Int, InodeRef)
    /// `unlock_new_inode` [fs/inode.c]: the new inode becomes live.
    case unlockNewInode(task: Int, InodeRef)
    /// `ext4_evict_inode` [6.18 fs/ext4/inode.c:165-200; 3.6 inode.c:185]: starts eviction.
    case ext4EvictInode(task: Int, InodeRef)
    /// `ext4_ioend_wait` [3.6 page-io.c:52-58]: ≤3.10 evict waits for `i_ioend_count == 0`.
    case ext4IoendWait(task: Int)
    /// `truncate_inode_pages_final` [mm/truncate.c]: waits for writeback, drops every folio.
    case truncateInodePagesFinal(task: Int)
    /// `ext4_free_inode` [fs/ext4/ialloc.c] then `destroy_inode`: the inode is gone.
    case ext4FreeInode(task: Int)

    // MARK: Dirtying
    /// `ext4_da_write_begin` [6.18 inode.c; 3.6 inode.c:2487]: `sb_start_write`,
    /// `i_mutex`, folio lock, and (per profile) wait for the folio's writeback.
    case ext4DaWriteBegin(task: Int, FolioRef)
    /// `ext4_da_write_end` [fs/ext4/inode.c]: copy, dirty the folio, unlock.
    case ext4DaWriteEnd(task: Int)
    /// `ext4_page_mkwrite` [6.18 inode.c:6682; 3.6 inode.c:4776; 2.6.39]: write
    /// fault on a mapped folio, followed by the faulting store.
    case ext4PageMkwrite(task: Int, FolioRef)
    /// A CPU store through a writable PTE: no kernel code runs; the hardware
    /// sets the PTE dirty bit (seed 001 case [4]).
    case userStore(task: Int, FolioRef)
    /// `filemap_fault` [mm/filemap.c]: a read fault maps the folio read-only
    /// (reading it in through `ext4_read_folio` if it was not cached).
    case filemapFault(task: Int, FolioRef)
    /// `zap_pte_range` [mm/memory.c] (munmap): a dirty PTE dirties the folio.
    case zapPteRange(task: Int, FolioRef)
    /// `ext4_fallocate` [fs/ext4/extents.c]: holes in the range become unwritten extents.
    case ext4Fallocate(task: Int, InodeRef, BlockRange)

    // MARK: Writeback (a task inside ext4_writepages)
    /// `ext4_writepages` [6.18 inode.c; trace_ext4_writepages]: the flusher or
    /// a sync starts writeback of one inode.
    case ext4Writepages(task: Int, InodeRef, syncAll: Bool)
    /// `mpage_submit_folio` [6.18 inode.c:2054-2082] / `mpage_da_submit_io`
    /// [3.6 inode.c:1459]: `folio_lock`, `folio_clear_dirty_for_io`
    /// (`folio_mkclean` write-protects the PTEs); allocates the io_end
    /// (`ext4_init_io_end`) if the pass has none.
    case mpageSubmitFolio(task: Int, FolioRef)
    /// `mpage_map_one_extent` + `ext4_bio_write_folio` [6.18 inode.c:2340-2387,
    /// page-io.c:457-593; 3.6 `ext4_bio_write_page` page-io.c:360-433]: map
    /// the blocks (allocation under dioread_nolock makes them unwritten and
    /// flags the io_end UNWRITTEN), `__folio_start_writeback`, `folio_unlock`.
    case ext4BioWriteFolio(task: Int, FolioRef)
    /// `ext4_io_submit` [6.18 page-io.c:397-407]: `submit_bio` of the io_end's bio.
    case ext4IoSubmit(task: Int, IoEndRef)
    /// `ext4_put_io_end` [6.18 page-io.c:331-340; 3.11 page-io.c:289-305]:
    /// the submitter drops its reference; if it was the last one, the
    /// conversion runs inline here (no workqueue).
    case ext4PutIoEnd(task: Int, IoEndRef)
    /// `ext4_writepages` returns (`trace_ext4_writepages_result`).
    case ext4WritepagesResult(task: Int)

    // MARK: Block layer and completion (irq)
    /// `blk_mq_start_request` [block/blk-mq.c] (`block_rq_issue`).
    case blkMqStartRequest(BioRef)
    /// `ext4_end_bio` [6.18 page-io.c:349-395; 3.6 page-io.c:195-257], after
    /// `block_rq_complete`: ≤3.10 `end_page_writeback` for every page;
    /// ≥3.11 chain or finish the bio and drop its io_end reference
    /// (`ext4_put_io_end_defer`, which may `ext4_add_complete_io`).
    case ext4EndBio(BioRef, error: Bool)
    /// `ext4_add_complete_io` [3.7 page-io.c:146-162; open-coded at the end
    /// of 3.6 `ext4_end_bio`]: ≤3.10, the rest of the irq handler after the
    /// pages' writeback ended: queue the io_end for conversion.
    case ext4AddCompleteIo(IoEndRef)

    // MARK: Conversion (kworker, or a flushing task)
    /// `ext4_end_io_work` [3.6 page-io.c:124-166; 3.7 page-io.c:227-231]:
    /// ≤3.7, the io_end's own work item starts. 3.6: converts and frees that
    /// io_end in one go under `i_mutex` trylock; 3.7: `list_replace_init`.
    case ext4EndIoWork(IoEndRef)
    /// `ext4_end_io_rsv_work` [6.18 page-io.c:301-306; 3.11 page-io.c:201-264]:
    /// ≥3.11, the inode's work starts: `list_replace_init` of `i_rsv_conversion_list`.
    case ext4EndIoRsvWork(InodeRef)
    /// `ext4_convert_unwritten_io_end_vec` [6.18 extents.c:4942-5024] (≤3.10:
    /// `ext4_end_io` → `ext4_convert_unwritten_extents`): unwritten → written;
    /// since e856f93e0fb2 skipped for a FAILED io_end.
    case ext4ConvertUnwrittenIoEndVec(IoEndRef)
    /// `ext4_release_io_end` [6.18 page-io.c:149-164] → `ext4_finish_bio` →
    /// `folio_end_writeback`: ≥3.11, after the conversion.
    case ext4ReleaseIoEnd(IoEndRef)
    /// 3.7 `ext4_do_flush_completed_IO` stages C–D [3.7 page-io.c:193-221]:
    /// clear UNWRITTEN, keep io_ends whose own work is still QUEUED, free the rest.
    case ext4FreeIoEnds(InodeRef)

    // MARK: fsync
    /// `ext4_sync_file` [6.18 fsync.c:129-174; 3.6 fsync.c:201-258]: entry.
    case ext4SyncFile(task: Int, InodeRef, datasync: Bool)
    /// `filemap_fdatawait_range` / `folio_wait_writeback` [mm/filemap.c]:
    /// the wait half of `file_write_and_wait_range`.
    case filemapFdatawaitRange(task: Int)
    /// `ext4_flush_completed_IO` [3.6 fsync.c:78-116] / `ext4_flush_unwritten_io`
    /// [3.7 page-io.c:233-241]: ≤3.7, drain and convert the inode's list in the caller.
    case ext4FlushCompletedIO(task: Int)
    /// `ext4_unwritten_wait` [3.7 page-io.c:229-237]: wait for `i_unwritten == 0`.
    case ext4UnwrittenWait(task: Int)
    /// `jbd2_complete_transaction` / `jbd2_log_wait_commit`, then `ext4_sync_file` returns.
    case ext4SyncFileReturn(task: Int)

    // MARK: Truncate and punch hole
    /// `ext4_setattr` shrinking i_size [6.18 inode.c:5915-6030].
    case ext4Setattr(task: Int, InodeRef, newSizeBlocks: UInt64)
    /// `ext4_punch_hole` [6.18 inode.c:4376-4460; 3.6 `ext4_ext_punch_hole` extents.c:4846]
    /// over the blocks the hole touches; `freed`, the blocks wholly inside it
    /// (nil: the same). The blocks at a partial end are zeroed, not freed,
    /// and their folios stay cached.
    case ext4PunchHole(task: Int, InodeRef, BlockRange, freed: BlockRange? = nil)
    /// `truncate_pagecache` / `truncate_pagecache_range` [mm/truncate.c]:
    /// waits for the folios' writeback, then drops them.
    case truncatePagecache(task: Int)
    /// `ext4_ext_remove_space` [fs/ext4/extents.c] (from `ext4_truncate`): frees the blocks.
    case ext4ExtRemoveSpace(task: Int)

    // MARK: Freeze
    /// `freeze_super` [6.18 fs/super.c:2074-2162] (FIFREEZE entry): block new
    /// writers and faults, then `sync_filesystem`.
    case freezeSuper(task: Int, DeviceNumber)
    /// `ext4_freeze` and SB_FREEZE_COMPLETE: the FIFREEZE ioctl returns.
    case ext4Freeze(task: Int)
    /// `thaw_super` [fs/super.c] (FITHAW entry).
    case thawSuper(task: Int, DeviceNumber)
    /// `ext4_unfreeze` [6.18 super.c:6430-6444]: SB_UNFROZEN.
    case ext4Unfreeze(task: Int)

    // MARK: Reclaim and re-read
    /// `shrink_folio_list` → `__remove_mapping` [mm/vmscan.c]: a clean folio
    /// not under writeback leaves the page cache.
    case shrinkFolioList(FolioRef)
    /// `ext4_read_folio` [6.18 fs/ext4/inode.c] (`ext4_mpage_readpages`): the
    /// folio is read back from disk; unwritten blocks read as zeros.
    case ext4ReadFolio(ActorRef, FolioRef)
}
