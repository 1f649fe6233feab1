import Testing
@testable import TraceIO

/// The generated specs (Tools/gen-event-specs.py) are consistent data.
@Suite struct EventSpecTests {
    @Test func everySpecCompilesAgainstItsFields() {
        let specs = EventSpecCatalog.all
        #expect(specs.count > 200)
        // An event's variants (one per distinct print format across the lab's
        // kernels) differ from each other.
        for (event, variants) in Dictionary(grouping: specs, by: \.event) where variants.count > 1 {
            let shapes = Set(variants.map { v in
                "\(v.fieldNames) \(v.fieldKinds) \(v.literalBytes) \(v.ops.map { [$0.field, $0.shift, Int($0.conversion.rawValue)] }) "
                    + "\(v.tables.map { [$0.values.map(String.init), $0.names.map { String(decoding: $0, as: UTF8.self) }] })"
            })
            #expect(shapes.count == variants.count, "\(event): duplicate variants")
        }
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
            // The names of older kernels (≤ 5.16, ≤ 6.3, ≤ 6.17) and the bio-based completion.
            "writeback_dirty_page": ["name", "ino", "index"], "wait_on_page_writeback": ["name", "ino", "index"],
            "ext4_writepage": ["dev", "ino", "index"], "ext4_da_write_pages": ["dev", "ino", "first_page", "nr_to_write"],
            "ext4_da_write_folios_start": ["dev", "ino", "start_pos", "next_pos"],
            "block_bio_complete": ["dev", "sector", "nr_sector", "error", "rwbs"],
        ]
        for (event, fields) in required {
            let variants = EventSpecCatalog.all.filter { $0.event == event }
            if variants.isEmpty { Issue.record("no spec for \(event)") }
            // Every kernel's print format of the event decodes them; `order`
            // only where the kernel has large folios (the decoder reads its
            // absence as order 0).
            for spec in variants {
                let decoded = Set(spec.ops.filter { !$0.isLiteral && $0.field >= 0 }.map { spec.fieldNames[$0.field] })
                for field in fields where field != "order" || spec.fieldNames.contains(field) {
                    #expect(decoded.contains(field), "\(event).\(field)")
                }
            }
        }
    }
}
