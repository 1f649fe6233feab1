import Testing
@testable import TraceIO

/// The generated specs (Tools/gen-event-specs.py) are consistent data.
@Suite struct EventSpecTests {
    @Test func everySpecCompilesAgainstItsFields() {
        let specs = EventSpecCatalog.all
        #expect(specs.count > 200)
        #expect(Set(specs.map(\.event)).count == specs.count)
        for spec in specs {
            #expect(spec.fieldNames.count == spec.fieldKinds.count, "\(spec.event)")
            #expect(!spec.ops.isEmpty, "\(spec.event)")
            for op in spec.ops where !op.isLiteral && (op.conversion == .flags || op.conversion == .symbolic) {
                #expect(op.table >= 0 && !spec.tables[op.table].values.isEmpty, "\(spec.event): empty flag table")
            }
        }
    }

    @Test func modelEventsDecodeTheirKeyFields() {
        // The fields the writeback model keys objects by must be rebuilt, not skipped.
        let required: [String: [String]] = [
            "ext4_writepages": ["dev", "ino"], "ext4_ext_map_blocks_exit": ["dev", "ino", "lblk", "pblk", "len", "mflags"],
            "ext4_es_insert_extent": ["dev", "ino", "lblk", "len", "pblk", "status"],
            "ext4_ext_handle_unwritten_extents": ["dev", "ino", "flags", "lblk", "pblk", "len"],
            "block_rq_complete": ["dev", "sector", "nr_sector", "error", "rwbs"],
            "block_rq_issue": ["dev", "sector", "nr_sector", "rwbs"],
            "writeback_dirty_folio": ["name", "ino", "index"], "folio_wait_writeback": ["name", "ino", "index"],
            "mm_filemap_add_to_page_cache": ["s_dev", "i_ino", "index", "order"],
            "mm_filemap_delete_from_page_cache": ["s_dev", "i_ino", "index", "order"],
            "workqueue_queue_work": ["work", "function", "workqueue"], "workqueue_execute_start": ["work", "function"],
            "workqueue_execute_end": ["work", "function"], "ext4_sync_file_enter": ["dev", "ino", "datasync"],
            "ext4_sync_file_exit": ["dev", "ino", "ret"], "ext4_evict_inode": ["dev", "ino"],
            "ext4_free_inode": ["dev", "ino"], "ext4_truncate_enter": ["dev", "ino"], "ext4_punch_hole": ["dev", "ino", "offset", "len"],
            "sb_clear_inode_writeback": ["dev", "ino"], "jbd2_start_commit": ["dev", "transaction"],
        ]
        for (event, fields) in required {
            guard let spec = EventSpecCatalog.all.first(where: { $0.event == event }) else {
                Issue.record("no spec for \(event)")
                continue
            }
            let decoded = Set(spec.ops.filter { !$0.isLiteral && $0.field >= 0 }.map { spec.fieldNames[$0.field] })
            for field in fields { #expect(decoded.contains(field), "\(event).\(field)") }
        }
    }
}
