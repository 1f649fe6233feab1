import Testing
@testable import TraceIO

@Suite struct RecordingPlanTests {
    @Test func parsesEventSelectors() {
        #expect(EventSelector("ext4") == EventSelector(system: "ext4"))
        #expect(EventSelector("ext4:ext4_sync_file_enter") == EventSelector(system: "ext4", event: "ext4_sync_file_enter"))
        #expect(EventSelector("block/block_rq_issue") == EventSelector(system: "block", event: "block_rq_issue"))
        #expect(EventSelector("sched:sched_switch")?.description == "sched:sched_switch")
    }

    @Test(arguments: ["", "ext4:", ":x", "a:b:c", "../etc", "ext4:../../x", "ext4 ", "ext4:foo bar"])
    func rejectsBadSelectors(text: String) {
        #expect(EventSelector(text) == nil)
    }

    @Test func writebackPresetHasWhatTheModelUses() {
        let events = Set(RecordingPreset.writeback.events.map(\.description))
        for system in ["ext4", "writeback", "jbd2", "filemap"] { #expect(events.contains(system)) }
        for e in ["block:block_rq_issue", "block:block_rq_complete", "block:block_bio_queue",
                  "workqueue:workqueue_execute_start", "workqueue:workqueue_execute_end"] {
            #expect(events.contains(e))
        }
        for call in ["fsync", "fdatasync", "ftruncate", "fallocate", "ioctl", "msync", "sync_file_range",
                     "renameat2", "unlinkat"] {
            #expect(events.contains("syscalls:sys_enter_\(call)"))
            #expect(events.contains("syscalls:sys_exit_\(call)"))
        }
        #expect(!events.contains("sched:sched_switch"))
    }

    @Test func presetsNest() {
        let minimal = Set(RecordingPreset.minimal.events)
        let writeback = Set(RecordingPreset.writeback.events)
        let full = Set(RecordingPreset.full.events)
        #expect(minimal.isSubset(of: writeback))
        #expect(writeback.isSubset(of: full))
        #expect(full.contains(EventSelector(system: "sched", event: "sched_switch")))
        #expect(full.contains(EventSelector(system: "sched", event: "sched_wakeup")))
    }

    @Test func resolvesAgainstAvailableEvents() throws {
        let kernel: [String: [String]] = ["ext4": ["ext4_sync_file_enter", "ext4_sync_file_exit"],
                                          "block": ["block_rq_issue"]]
        let r = try EventResolution(
            preset: [EventSelector(system: "ext4"), EventSelector(system: "block", event: "block_rq_issue"),
                     EventSelector(system: "block", event: "block_rq_gone"), EventSelector(system: "iomap")],
            extra: [EventSelector(system: "ext4", event: "ext4_sync_file_exit")]) { kernel[$0] ?? [] }
        #expect(r.events.map { "\($0.system)/\($0.event)" }
            == ["ext4/ext4_sync_file_enter", "ext4/ext4_sync_file_exit", "block/block_rq_issue"])
        #expect(r.missing == ["block:block_rq_gone", "iomap"])
    }

    @Test func unknownExtraEventIsAnError() {
        #expect(throws: RecordError.unknownEvents(["ext4:nope", "nosys"])) {
            try EventResolution(preset: [], extra: [EventSelector(system: "ext4", event: "nope"),
                                                    EventSelector(system: "nosys")]) { $0 == "ext4" ? ["ext4_x"] : [] }
        }
    }

    @Test func notRootMessageIsExact() {
        #expect(RecordError.notRoot.description == "record needs root (CAP_SYS_ADMIN) for tracefs")
    }
}
