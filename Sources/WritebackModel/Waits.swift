/// Waits in the kernel that a trace can show were not waited on (`force`):
/// the step goes through with the state as it is, so the rules judge what
/// it did (a write on a frozen file system, a folio changed under writeback,
/// an inode freed with io_ends pending).
struct Waits: OptionSet, Hashable, Sendable {
    let rawValue: UInt8
    /// `sb_start_write`, `sb_start_pagefault`, the journal start on a frozen fs.
    static let freezeProtection = Waits(rawValue: 1 << 0)
    /// `folio_wait_stable` / `wait_on_page_writeback` before a folio is modified.
    static let stablePages = Waits(rawValue: 1 << 1)
    /// ≤3.10 `ext4_ioend_wait` (`i_ioend_count == 0`).
    static let ioendCount = Waits(rawValue: 1 << 2)
    /// 3.7 `ext4_unwritten_wait` (`i_unwritten == 0`).
    static let unwritten = Waits(rawValue: 1 << 3)
    /// The end of `freeze_super`: `sync_filesystem`, `sb_wait_write`, `flush_workqueue`.
    static let freezeSync = Waits(rawValue: 1 << 4)
}
