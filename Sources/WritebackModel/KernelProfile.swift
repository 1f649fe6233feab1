/// Which kernel's ext4 the model behaves like. A profile changes which
/// transitions exist and when they are enabled; it never changes the rules.
/// Its behaviours are read through `KernelTraits`, one trait at a time.
///
/// Sources (read, not copied): 2.6.39.4 (robacklin/linux-2.6.39.4), 3.6.5
/// (yuhc/linux-3.6.5), 3.7.2 (robacklin/linux-3.7.2), 3.11
/// (PKUCloud/linux-3.11-cloud), 6.18.2 (gfunkmonk/linux-6.18.2); the seed-002
/// thread for the V4 patch; the c678bdc99875 commit message for 6.15; for
/// 5.10, 6.1 and 6.12 the kernel lab's recordings of Debian's 5.10.223,
/// 6.1.176 and 6.12.117 (traces/kernels/, docs/lab.md) with their
/// `filefrag -v` evidence after a real I/O error.
public enum KernelProfile: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// The kernel of seeds 001 and 003 (spring 2011): `ext4_page_mkwrite`
    /// returns without blocking on a frozen fs or waiting on writeback when
    /// the page's buffers are mapped [2.6.39.4 fs/ext4/inode.c ext4_page_mkwrite],
    /// `grab_cache_page_write_begin` does not wait for writeback; io_end
    /// handling as in 3.6.
    case ext4_2_6_39 = "ext4-2.6.39"
    /// `end_page_writeback` in `ext4_end_bio`, then queue the io_end; one work
    /// per io_end converting under `i_mutex` trylock; fsync/truncate drain
    /// `i_completed_io_list` with `ext4_flush_completed_IO`; evict waits for
    /// `i_ioend_count == 0`.
    case ext4_3_6 = "ext4-3.6"
    /// Monakhov's "completed_io locking cleanup V4" as posted (seed 002):
    /// queue work only when the list was empty, the worker drains with
    /// `list_replace_init`, and `ext4_flush_completed_IO` returns as soon as
    /// it sees an empty list — Jan Kara's CPU1/CPU2 race.
    case ext4_3_7_v4 = "ext4-3.7-v4"
    /// 3.7 as released (28a535f9a0df): as V4, but `ext4_flush_unwritten_io`
    /// also waits for `i_unwritten == 0` (`ext4_unwritten_wait`).
    case ext4_3_7 = "ext4-3.7"
    /// Refcounted io_end, reserved handle, per-inode `i_rsv_conversion_work`,
    /// and b0857d309fae: writeback of an unwritten io_end ends only after the
    /// conversion. fsync relies on waiting for writeback.
    case ext4_3_11 = "ext4-3.11"
    /// 5.6 to 6.14 (Debian's 5.10 and 6.1): the 3.11 io_end code with the
    /// io_end_vec (one io_end, several unwritten ranges), and dioread_nolock
    /// on by default (244adf6426ee, 5.6: `ext4_fill_super` sets
    /// DIOREAD_NOLOCK), so delayed allocation at writeback creates unwritten
    /// extents. A FAILED io_end is still converted, by the worker
    /// (`ext4_end_io_end` [5.10 page-io.c]) and inline (`ext4_put_io_end`).
    case ext4_5_10 = "ext4-5.10"
    /// 6.12.y with e856f93e0fb2 backported but not 2f94b537c48d (Debian's
    /// 6.12.117): the worker's `ext4_end_io_end` skips the conversion of a
    /// FAILED io_end, while the submitter's `ext4_put_io_end`, when it drops
    /// the last reference, still calls `ext4_convert_unwritten_io_end_vec`
    /// for any UNWRITTEN io_end. The lab's evidence: under a dm `error`
    /// target (the bio fails inside the submitter's `submit_bio`, so the
    /// submitter's put is the last) the failed blocks lose their unwritten
    /// flag; on null_blk (the error completes later, the worker converts)
    /// they keep it.
    case ext4_6_12 = "ext4-6.12"
    /// 6.15 (to 6.15.9 / 6.16.0): FAILED io_ends are not converted
    /// (e856f93e0fb2), but `ext4_put_io_end_defer` queues a FAILED io_end
    /// that `ext4_end_bio` did not defer, then the bio finishes and the
    /// inode's last writeback can end first — CVE-2025-38580.
    case ext4_6_15 = "ext4-6.15"
    /// 6.16+ / 6.18: c678bdc99875 makes both deferral tests agree.
    case ext4_6_x = "ext4-6.x"

    public var description: String { rawValue }

    // MARK: Completion and conversion

    /// ≤3.10: `ext4_end_bio` calls `end_page_writeback` for every page before
    /// the io_end is queued for conversion [3.6 page-io.c:195-257; 3.7
    /// page-io.c:266-326]. ≥3.11: an unwritten io_end's bios are chained and
    /// finished in `ext4_release_io_end` after conversion (b0857d309fae).
    fileprivate var endsWritebackBeforeConversion: Bool { generation < .v3_11 }

    /// ≥3.11: `io_end->count`, one reference for the submitter plus one per
    /// bio [3.11 page-io.c:266-305]. Before, the io_end belongs to its bio.
    fileprivate var refcountedIoEnd: Bool { generation >= .v3_11 }

    /// 3.6 queues `io_end->work` for every io_end; 3.7+ only when the list
    /// was empty (`ext4_add_complete_io` [3.7 page-io.c:146-162; 6.18
    /// page-io.c:250-269]).
    fileprivate var queuesWorkOnlyWhenListEmpty: Bool { generation >= .v3_7 }

    /// 3.7+: the worker takes the whole list with `list_replace_init`
    /// (`ext4_do_flush_completed_IO`); 3.6: one io_end per work run.
    fileprivate var workerDrainsWholeList: Bool { generation >= .v3_7 }

    /// ≥3.10 the work item lives in the inode (`i_unwritten_work`, then
    /// `i_rsv_conversion_work`); before, in each io_end.
    fileprivate var workPerInode: Bool { generation >= .v3_11 }

    /// 3.6: `ext4_end_io_work` only converts if `mutex_trylock(&i_mutex)`
    /// succeeds, else it requeues [3.6 page-io.c:124-166].
    fileprivate var workerNeedsInodeMutex: Bool { generation < .v3_7 }

    /// ≤3.7: fsync, truncate and punch hole call `ext4_flush_completed_IO` /
    /// `ext4_flush_unwritten_io`; 3.11 removed it from fsync [3.11 fsync.c:88-151]
    /// and truncate relies on waiting for PageWriteback.
    fileprivate var flushesCompletedIO: Bool { generation < .v3_11 }

    /// 3.7 as released waits for `i_unwritten == 0` after draining
    /// (`ext4_unwritten_wait` [3.7 page-io.c:229-237]); 3.6 and the V4 patch do not.
    fileprivate var flushWaitsForUnwritten: Bool { self == .ext4_3_7 }

    /// ≤3.10: `ext4_evict_inode` waits for `i_ioend_count == 0`
    /// (`ext4_ioend_wait` [3.6 inode.c:185-192]); ≥3.11 only pinned by PG_writeback.
    fileprivate var evictWaitsForIoEnds: Bool { generation < .v3_11 }

    /// e856f93e0fb2 (6.15, backported to 6.12.y): `ext4_end_io_end`, the
    /// worker's path, skips the conversion of a FAILED io_end.
    fileprivate var skipsConversionOfFailedIO: Bool { generation >= .v6_12 }

    /// The submitter's `ext4_put_io_end` at the last reference: 6.15+ call
    /// `ext4_end_io_end` (and so skip a FAILED io_end); up to 6.14, and
    /// 6.12.117 with e856f93e0fb2 only, convert every UNWRITTEN io_end with
    /// `ext4_convert_unwritten_io_end_vec` [5.10 page-io.c ext4_put_io_end].
    fileprivate var inlinePutSkipsConversionOfFailedIO: Bool { generation >= .v6_15 }

    /// 6.15+: `ext4_end_bio` also defers a FAILED io_end under
    /// data_err=abort (the worker aborts the journal) [6.18 page-io.c
    /// ext4_io_end_defer_completion]; before, only UNWRITTEN ones
    /// [5.10 page-io.c ext4_end_bio]. Not verified on 6.12.117 (the lab
    /// mounts without data_err=abort): the profile keeps the older test.
    fileprivate var defersFailedIoEndUnderDataErrAbort: Bool { generation >= .v6_15 }

    /// 6.15 before c678bdc99875: `ext4_put_io_end_defer` queues an io_end
    /// with UNWRITTEN or FAILED set, while `ext4_end_bio` defers (keeps the
    /// bio unfinished) only for UNWRITTEN, or FAILED with data_err=abort.
    fileprivate var putDeferDisagreesWithEndBio: Bool { self == .ext4_6_15 }

    // MARK: Removing blocks

    /// `ext4_punch_hole` up to the 6.12 profile writes the range's dirty
    /// folios back and waits for them before it drops the page cache
    /// ("Write out all dirty pages to avoid race conditions":
    /// `filemap_write_and_wait_range` [5.10 inode.c ext4_punch_hole]; the
    /// lab's 5.10 and 6.1 recordings show its `ext4_writepages` inside the
    /// punch). By 6.15 its refactor writes back only journalled data
    /// (`ext4_truncate_page_cache_block_range` [6.18 inode.c:4308-4326]),
    /// which the model does not follow.
    fileprivate var punchHoleWritesBackDirtyFolios: Bool { generation < .v6_15 }

    // MARK: Freeze and stable pages

    /// 3.6+: `ext4_page_mkwrite` takes `sb_start_pagefault` and blocks from
    /// the start of a freeze [3.6 inode.c:4789; 6.18 inode.c:6682]. 2.6.39:
    /// only the path that has to allocate (write_begin → journal start) blocks.
    fileprivate var pageMkwriteBlocksOnFreeze: Bool { generation >= .v3_6 }

    /// When page_mkwrite and write_begin wait for writeback of the folio.
    fileprivate var stablePageWait: StablePageWait {
        switch generation {
        case .v2_6_39: return .never
        case .v3_6, .v3_7: return .always
        default: return .whenDeviceRequiresStableWrites
        }
    }

    /// Allocation during writeback creates unwritten extents by default
    /// since 5.6 (244adf6426ee: dioread_nolock default on [5.10 super.c
    /// ext4_fill_super; 6.18 super.c:4392]); older kernels need the mount option.
    fileprivate var dioreadNolockByDefault: Bool { generation >= .v5_6 }

    // MARK: -

    enum Generation: Int, Comparable {
        case v2_6_39, v3_6, v3_7, v3_11, v5_6, v6_12, v6_15, v6_x
        static func < (a: Generation, b: Generation) -> Bool { a.rawValue < b.rawValue }
    }

    var generation: Generation {
        switch self {
        case .ext4_2_6_39: return .v2_6_39
        case .ext4_3_6: return .v3_6
        case .ext4_3_7_v4, .ext4_3_7: return .v3_7
        case .ext4_3_11: return .v3_11
        case .ext4_5_10: return .v5_6
        case .ext4_6_12: return .v6_12
        case .ext4_6_15: return .v6_15
        case .ext4_6_x: return .v6_x
        }
    }
}

/// Whether modifiers of a folio wait for its writeback to end.
public enum StablePageWait: Hashable, Sendable {
    /// 2.6.39: nobody waits.
    case never
    /// 3.0–3.8: `wait_on_page_writeback` unconditionally
    /// [3.6 mm/filemap.c:2277, fs/buffer.c:2337].
    case always
    /// 3.9+: `folio_wait_stable` waits only if the mapping has
    /// AS_STABLE_WRITES [6.18 mm/page-writeback.c:3138-3143].
    case whenDeviceRequiresStableWrites

    func waits(stableWrites: Bool) -> Bool {
        switch self {
        case .never: return false
        case .always: return true
        case .whenDeviceRequiresStableWrites: return stableWrites
        }
    }
}

/// One behaviour in which profiles differ (a property of `KernelTraits`).
public enum KernelTrait: Int, CaseIterable, Sendable {
    case endsWritebackBeforeConversion
    case refcountedIoEnd
    case queuesWorkOnlyWhenListEmpty
    case workerDrainsWholeList
    case workPerInode
    case workerNeedsInodeMutex
    case flushesCompletedIO
    case flushWaitsForUnwritten
    case evictWaitsForIoEnds
    case skipsConversionOfFailedIO
    case inlinePutSkipsConversionOfFailedIO
    case defersFailedIoEndUnderDataErrAbort
    case putDeferDisagreesWithEndBio
    case punchHoleWritesBackDirtyFolios
    case pageMkwriteBlocksOnFreeze
    case stablePageWait
    case dioreadNolockByDefault
    /// The profile itself (a blocker that names it: `notInProfile`).
    case identity
}

/// A set of traits, one bit each.
public struct KernelTraitSet: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ trait: KernelTrait) { rawValue = 1 << UInt32(trait.rawValue) }
}

/// The traits a replay read, for a replay that runs several profiles as
/// one while the trace gives them no reason to differ (`diff`): it clears
/// the log before an event and looks at it after. One log per replay, used
/// by the one thread that runs it.
public final class TraitLog: @unchecked Sendable {
    public var read = KernelTraitSet()
    public init() {}
}

/// What the model and the replay read of a profile: every behaviour in
/// which profiles differ is one of these properties (the profile's own are
/// private to this file), so that a `TraitLog` sees each one read. Read a
/// trait only where its answer decides the step (the state's condition
/// first, then the trait): a read that decides nothing still parts a
/// replay standing for profiles that differ in it.
public struct KernelTraits: Hashable, Sendable {
    private let profile: KernelProfile
    private let log: TraitLog?

    public init(_ profile: KernelProfile, log: TraitLog? = nil) {
        self.profile = profile
        self.log = log
    }

    public static func == (a: KernelTraits, b: KernelTraits) -> Bool { a.profile == b.profile }
    public func hash(into hasher: inout Hasher) { hasher.combine(profile) }

    /// The profile, for what names it: every other profile differs in this.
    public var identity: KernelProfile { note(.identity); return profile }

    private func note(_ trait: KernelTrait) { log?.read.insert(KernelTraitSet(trait)) }

    public var endsWritebackBeforeConversion: Bool { note(.endsWritebackBeforeConversion); return profile.endsWritebackBeforeConversion }
    public var refcountedIoEnd: Bool { note(.refcountedIoEnd); return profile.refcountedIoEnd }
    public var queuesWorkOnlyWhenListEmpty: Bool { note(.queuesWorkOnlyWhenListEmpty); return profile.queuesWorkOnlyWhenListEmpty }
    public var workerDrainsWholeList: Bool { note(.workerDrainsWholeList); return profile.workerDrainsWholeList }
    public var workPerInode: Bool { note(.workPerInode); return profile.workPerInode }
    public var workerNeedsInodeMutex: Bool { note(.workerNeedsInodeMutex); return profile.workerNeedsInodeMutex }
    public var flushesCompletedIO: Bool { note(.flushesCompletedIO); return profile.flushesCompletedIO }
    public var flushWaitsForUnwritten: Bool { note(.flushWaitsForUnwritten); return profile.flushWaitsForUnwritten }
    public var evictWaitsForIoEnds: Bool { note(.evictWaitsForIoEnds); return profile.evictWaitsForIoEnds }
    public var skipsConversionOfFailedIO: Bool { note(.skipsConversionOfFailedIO); return profile.skipsConversionOfFailedIO }
    public var inlinePutSkipsConversionOfFailedIO: Bool { note(.inlinePutSkipsConversionOfFailedIO); return profile.inlinePutSkipsConversionOfFailedIO }
    public var defersFailedIoEndUnderDataErrAbort: Bool { note(.defersFailedIoEndUnderDataErrAbort); return profile.defersFailedIoEndUnderDataErrAbort }
    public var putDeferDisagreesWithEndBio: Bool { note(.putDeferDisagreesWithEndBio); return profile.putDeferDisagreesWithEndBio }
    public var punchHoleWritesBackDirtyFolios: Bool { note(.punchHoleWritesBackDirtyFolios); return profile.punchHoleWritesBackDirtyFolios }
    public var pageMkwriteBlocksOnFreeze: Bool { note(.pageMkwriteBlocksOnFreeze); return profile.pageMkwriteBlocksOnFreeze }
    public var stablePageWait: StablePageWait { note(.stablePageWait); return profile.stablePageWait }
    public var dioreadNolockByDefault: Bool { note(.dioreadNolockByDefault); return profile.dioreadNolockByDefault }
}

extension KernelProfile {
    /// The traits on which `profiles` do not all agree.
    public static func disagreement(among profiles: some Sequence<KernelProfile>) -> KernelTraitSet {
        var first: KernelProfile?
        var differ = KernelTraitSet()
        for p in profiles {
            guard let f = first else { first = p; continue }
            for t in KernelTrait.allCases where p.value(of: t) != f.value(of: t) { differ.insert(KernelTraitSet(t)) }
        }
        return differ
    }

    /// Whether this profile and `other` behave alike in every trait of `traits`.
    public func agrees(with other: KernelProfile, on traits: KernelTraitSet) -> Bool {
        KernelTrait.allCases.allSatisfy { !traits.contains(KernelTraitSet($0)) || value(of: $0) == other.value(of: $0) }
    }

    private func value(of trait: KernelTrait) -> Int {
        switch trait {
        case .endsWritebackBeforeConversion: return endsWritebackBeforeConversion ? 1 : 0
        case .refcountedIoEnd: return refcountedIoEnd ? 1 : 0
        case .queuesWorkOnlyWhenListEmpty: return queuesWorkOnlyWhenListEmpty ? 1 : 0
        case .workerDrainsWholeList: return workerDrainsWholeList ? 1 : 0
        case .workPerInode: return workPerInode ? 1 : 0
        case .workerNeedsInodeMutex: return workerNeedsInodeMutex ? 1 : 0
        case .flushesCompletedIO: return flushesCompletedIO ? 1 : 0
        case .flushWaitsForUnwritten: return flushWaitsForUnwritten ? 1 : 0
        case .evictWaitsForIoEnds: return evictWaitsForIoEnds ? 1 : 0
        case .skipsConversionOfFailedIO: return skipsConversionOfFailedIO ? 1 : 0
        case .inlinePutSkipsConversionOfFailedIO: return inlinePutSkipsConversionOfFailedIO ? 1 : 0
        case .defersFailedIoEndUnderDataErrAbort: return defersFailedIoEndUnderDataErrAbort ? 1 : 0
        case .putDeferDisagreesWithEndBio: return putDeferDisagreesWithEndBio ? 1 : 0
        case .punchHoleWritesBackDirtyFolios: return punchHoleWritesBackDirtyFolios ? 1 : 0
        case .pageMkwriteBlocksOnFreeze: return pageMkwriteBlocksOnFreeze ? 1 : 0
        case .stablePageWait:
            switch stablePageWait {
            case .never: return 0
            case .always: return 1
            case .whenDeviceRequiresStableWrites: return 2
            }
        case .dioreadNolockByDefault: return dioreadNolockByDefault ? 1 : 0
        case .identity: return Self.allCases.firstIndex(of: self)!
        }
    }
}
