import TraceIO
import WritebackModel

// The I/O-error path: what becomes of a FAILED io_end's unwritten blocks.

extension BuiltinScenarios {
    /// The flusher writes a dirty folio over a fallocated block and the bio
    /// fails. Up to 6.14 a FAILED io_end is still converted: by the worker
    /// (3.6 `ext4_end_io_work`; `ext4_end_io_end` [5.10 page-io.c]) or by the submitter's
    /// `ext4_put_io_end` at the last reference, so the extent turns written
    /// over blocks that never received the data. e856f93e0fb2 (6.15,
    /// backported to 6.12.y) makes the worker skip it; 6.12.117 still
    /// converts in `ext4_put_io_end` when the submitter's put is the last
    /// (the bio failed before it); 6.15+ skips both.
    public static let ioErrorVsConversion = Scenario(
        name: "io-error-vs-conversion",
        summary: "the flusher writes a fallocated block and the bio fails; the io_end is released by the worker or by the submitter's put",
        source: "e856f93e0fb2 (\"ext4: do not convert the unwritten extents if data writeback fails\")",
        rule: .conversionAfterIOError,
        bugProfiles: [.ext4_3_11, .ext4_5_10, .ext4_6_12], fixedProfiles: [.ext4_6_15, .ext4_6_x],
        defaultBound: 24,
        actors: [flusher, irq, worker],
        scripts: [3: [.ext4Writepages(task: 3, inode, syncAll: false)]],
        device: dev, dataStartBlock: dataStart,
        initialState: { dirtyOverFailingDevice($0, .unwritten) })
}
