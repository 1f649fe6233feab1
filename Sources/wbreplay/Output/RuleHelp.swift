import WritebackModel

/// What each rule means, for reports read without the docs at hand (SARIF
/// rule metadata, the HTML report). The same words as docs/model.md.
enum RuleHelp {
    static func summary(_ rule: RuleID) -> String {
        switch rule {
        case .fsyncBeforeConversion:
            return "fsync returned while written data still sat behind an unwritten extent"
        case .staleReadBeforeConversion:
            return "a folio left the page cache before its extent's conversion and was read back as zeros"
        case .truncateDuringConversion:
            return "blocks were removed while a conversion for them was pending"
        case .evictWithPendingIO:
            return "an inode was evicted or freed while one of its io_ends was still pending"
        case .writeWhileFrozen:
            return "a folio was dirtied while the file system was frozen"
        case .unstablePageWrite:
            return "a folio was modified during its writeback on a device that needs stable pages"
        case .conversionAfterIOError:
            return "an unwritten extent was converted although the write carrying its data failed"
        }
    }

    static func help(_ rule: RuleID) -> String {
        switch rule {
        case .fsyncBeforeConversion:
            return "fsync or fdatasync returned success while an unwritten extent whose data write completed in that fsync's window was not yet converted to written. After a crash the file reads zeros where fsync promised data. ext4 kernels before 3.7 queued the conversion for a worker that fsync did not wait for."
        case .staleReadBeforeConversion:
            return "A folio whose write completed, but whose extent was still unwritten, left the page cache (reclaim, invalidation) and was read back before the conversion: the read mapped the unwritten extent and returned zeros instead of the data just written."
        case .truncateDuringConversion:
            return "truncate, punch hole or zero range removed blocks of an inode while a conversion for them was pending: the conversion worker then works on blocks that no longer belong to the file."
        case .evictWithPendingIO:
            return "An inode was evicted or freed while one of its io_ends still awaited conversion or release: the completion path then uses freed memory (the class of CVE-2025-38580)."
        case .writeWhileFrozen:
            return "After FIFREEZE completed and before FITHAW, a folio of the frozen file system was dirtied (write(2), a write fault on a shared mapping), a handle started, or a write issued to its device: the frozen image is not stable."
        case .unstablePageWrite:
            return "A folio was modified while its writeback was in flight, on a device that requires stable pages (checksums, RAID parity, encryption): the device may store data that changed under it."
        case .conversionAfterIOError:
            return "An unwritten extent was converted to written although the write that carried its data failed: the file now claims blocks whose contents never reached the disk (fixed by e856f93e0fb2)."
        }
    }
}
