import MutationCorpus

/// The cases the recordings cannot host, and why (a phrase of the reason
/// the injector gives). A skip whose reason is not one of these fails (an
/// injector that cannot make a template, an internal error): this list is
/// what may limit the corpus's coverage, never what the replay misses — a
/// built case is always replayed and judged.
enum ExpectedSkips {
    static func reason(_ id: CaseID, skipped why: String) -> String? {
        if let d = byDesign(id), why.contains(d) { return d }
        return (lacking + obstacles).first { why.contains($0) }
    }

    /// Orderings a rule cannot have, whatever the trace.
    static func byDesign(_ id: CaseID) -> String? {
        switch (id.rule, id.ordering) {
        case (.conversionAfterIOError, .unordered): return "no unordered pair exists"
        case (.evictWithPendingIO, .happensBefore): return "no happens-before chain from the free to the conversion"
        default: return nil
        }
    }

    /// Recordings without the events a rule's injection needs.
    static let lacking = [
        // O_DIRECT writes and truncates: iomap converts inline.
        "converted only inline by their writer",
        // Mounted with dioread_lock, or nodelalloc: writeback allocates written extents.
        "no unwritten extent is converted in it",
        // write-while-frozen needs a user task's buffered write or write fault.
        "no user task dirties a folio of a regular file",
        // A lost window may hide a syscall's exit or a queueing (CaseMaker.lossReason).
        "the recording lost events",
        "the ring buffer overwrote events before this trace's first one",
        "the trace shows one CPU only",
        // Every injected event is a copy of a recorded one of the same kernel
        // release and format: older kernels name some tracepoints otherwise
        // (5.10's ext4_releasepage) or the recordings never hit them.
        "event to copy (neither in this trace nor in the other",
        "the file system's geometry is unknown",
    ]

    /// Places a recording cannot host an edit plausibly. The injector tries
    /// up to 24 sites; these name what stood in the way at them.
    static let obstacles = [
        // A CPU runs another task where the injected task would run, or the
        // moved worker's run would overlap another task's.
        "stays busy", "is busy", "is never quiet", "no quiet moment", "the CPUs are busy",
        "the writer is busy", "the writer is inside a syscall", "no room to thaw",
        // 3.7's race needs the worker idle between taking the list and converting.
        "the worker runs other work between taking the list and converting",
        // fsync under a per-CPU clock: only the 3.7 race orders the completion
        // before the return, and the worker was not idle for it.
        "under a per-CPU clock only the 3.7 race orders",
        // The conversion cannot be postponed past an event that depends on it.
        "cannot move the conversion", "cannot postpone the conversion",
        "other writeback of the inode is in flight",
        // A twin's fdatasync must be legal for every io_end of the file.
        "is under writeback where the twin's", "is in flight where the twin's",
        // The recorded queueing and run of the work leave no room for the race.
        "the io_end is not queued before", "the io_end joined a list whose work an earlier completion had queued",
        // A device completing inside submit_bio (null_blk): the ≤3.10 end of
        // writeback there would read as the submitter's inline conversion.
        "the last bio completed in the submitter's context while it held the io_end",
        "the worker had not started when the task went ahead", "the worker would start before",
        "the trace later uses the folio the removal deletes",
        "a journal commit starts while the eviction runs",
        // unstable-page-write: the store needs ≥ 1 ms of writeback after it;
        // (c) needs the submitter back in user space while its data is written.
        "no room for a store",
        "does not return to user space before the data is written",
        "the recording dirties the folio again while it is under writeback",
        "is not in the page cache",
        // stale read: reclaim needs a clean folio that the trace does not touch again.
        "the folio is dirtied again while under writeback", "the trace adds the folio again",
        "no cached folio lies wholly inside",
        // write-while-frozen: the freeze must fit around the whole write.
        "the write began more than",
        "while the file system would be frozen",
        "is in flight (bio at event", "not written back when the freeze would",
        // The case's window touches a lost window.
        "the ring buffer lost events in the case's window",
    ]
}
