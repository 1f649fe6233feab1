import Foundation
import Testing
import TraceIO
import KernelEvents
@testable import EventGraph

@Suite struct SyntheticGraphTests {
    @Test func conversionIsLinkedToItsExtentBioAndWork() {
        var s = Synthetic()
        let story = s.conversionStory(lblk: 297, pblk: 35113)
        let g = s.graph()
        #expect(g.conversions.count == 1)
        let c = g.conversions[0]
        #expect(c.conversion == story.convert)
        #expect(c.submissions == [story.submit])
        #expect(c.bios == [story.bio])
        #expect(c.completions == [story.complete])
        #expect(c.written == story.written)
        #expect(c.workItem.map { g.workItems[$0].queued } == story.queue)
        #expect(g.unlinked.isEmpty)
        #expect(g.geometries.first?.blockSize == 4096)
        #expect(g.geometries.first?.startSector == 0)

        let incomingKinds = Set(g.incoming(story.queue).map(\.kind))
        #expect(incomingKinds.contains(.bioConversion))
        #expect(g.incoming(story.convert).contains(Edge(from: story.submit, to: story.convert, kind: .extentConversion)))
        #expect(g.incoming(story.bio).contains(Edge(from: story.submit, to: story.bio, kind: .extentBio)))
        #expect(g.incoming(story.written).contains(Edge(from: story.convert, to: story.written, kind: .conversionWritten)))

        let counts = g.edgeCounts
        #expect(counts[.work] == 3)
        #expect(counts[.blockIO] == 3)
        #expect(counts[.extentBio] == 1)
        #expect(counts[.bioConversion] == 2)
        #expect(g.incoming(story.convert).contains(Edge(from: story.complete, to: story.convert, kind: .bioConversion)))
    }

    @Test func happensBeforeFollowsCausesAcrossTasks() {
        var s = Synthetic()
        let story = s.conversionStory(lblk: 0, pblk: 1000)
        let unrelated = s.add("ext4_da_write_begin", pid: 300, cpu: 1, [("dev", s.d), ("ino", .unsigned(99)), ("pos", .unsigned(0)), ("len", .unsigned(10))])
        let g = s.graph()
        #expect(g.isBefore(story.submit, story.written))
        #expect(g.isBefore(story.complete, story.convert))
        #expect(g.isBefore(story.bio, story.end))
        #expect(!g.isBefore(story.written, story.submit))
        #expect(!g.isBefore(story.convert, story.convert))
        // Later in the stream but not caused: no path.
        #expect(!g.isBefore(story.submit, unrelated))
        #expect(!g.isBefore(unrelated, story.end))

        let chain = g.causalChain(to: story.written)
        let nodes = Set(chain.steps.map(\.node))
        #expect(nodes.isSuperset(of: [story.written, story.convert, story.start, story.queue, story.complete, story.submit]))
        #expect(chain.steps.map(\.node) == chain.steps.map(\.node).sorted())
    }

    @Test func convertWithoutSubmittedExtentIsUnlinked() {
        var s = Synthetic()
        s.work("workqueue_queue_work", pid: 14)
        s.work("workqueue_execute_start", pid: 50, cpu: 1)
        let orphan = s.convert(lblk: 5, pblk: 5000)
        s.work("workqueue_execute_end", pid: 50, cpu: 1)
        let g = s.graph()
        #expect(g.unlinked.count == 1)
        #expect(g.unlinked.first?.kind == .conversion)
        #expect(g.unlinked.first?.node == orphan)
        // The inode never had an extent mapped for I/O in the trace: its story began earlier.
        #expect(g.unlinked.first?.reason == .traceStart)
        #expect(g.conversions.first?.isLinked == false)
    }

    @Test func convertOfAnotherRangeIsUnexplained() {
        var s = Synthetic()
        _ = s.conversionStory(lblk: 0, pblk: 1000)
        let wrong = s.convert(lblk: 50, pblk: 7000)
        let g = s.graph()
        let u = g.unlinked.filter { $0.kind == .conversion }
        #expect(u.map(\.node) == [wrong])
        #expect(u.first?.reason == .unexplained)
        #expect(g.unlinkedCounts[.conversion]?.unexplained == 1)
    }

    @Test func reusedWorkPointerMakesTwoWorkItems() {
        var s = Synthetic()
        let a = s.conversionStory(lblk: 0, pblk: 1000, work: 0xAAAA)
        let b = s.conversionStory(lblk: 1, pblk: 1001, work: 0xAAAA)
        let g = s.graph()
        let items = g.workItems.filter { $0.key.work == 0xAAAA }
        #expect(items.count == 2)
        #expect(items[0].queued == a.queue && items[0].ended == a.end)
        #expect(items[1].queued == b.queue && items[1].started == b.start)
        #expect(g.objectCounts[.workItem] == 2)
        #expect(g.conversions.allSatisfy { $0.isLinked })
    }

    @Test func workRequeuedWhileRunningIsAnotherItem() {
        var s = Synthetic()
        let q1 = s.work("workqueue_queue_work", pid: 14)
        let s1 = s.work("workqueue_execute_start", pid: 50, cpu: 1)
        let q2 = s.work("workqueue_queue_work", pid: 14)
        let e1 = s.work("workqueue_execute_end", pid: 50, cpu: 1)
        let s2 = s.work("workqueue_execute_start", pid: 50, cpu: 1)
        let g = s.graph()
        #expect(g.workItems.count == 2)
        #expect(g.workItems[0].queued == q1 && g.workItems[0].started == s1 && g.workItems[0].ended == e1)
        #expect(g.workItems[1].queued == q2 && g.workItems[1].started == s2 && g.workItems[1].ended == nil)
        #expect(g.unlinked.isEmpty)
    }

    @Test func workEndWithoutStartAtTraceStartIsExplained() {
        var s = Synthetic()
        let end = s.work("workqueue_execute_end", pid: 50)
        let g = s.graph()
        #expect(g.unlinked.map(\.node) == [end])
        #expect(g.unlinked.first?.reason == .traceStart)
    }

    @Test func missingPartnersAfterLostEventsAreExplainedByTheLoss() {
        var s = Synthetic()
        s.work("workqueue_queue_work", pid: 14)
        s.work("workqueue_execute_start", pid: 50)
        s.work("workqueue_execute_end", pid: 50)
        s.lost(cpu: 1)
        let orphanStart = s.work("workqueue_execute_start", pid: 50)
        let g = s.graph()
        #expect(g.unlinked.map(\.node) == [orphanStart])
        #expect(g.unlinked.first?.reason == .lostEvents)
        #expect(g.lostEvents.count == 1)
    }

    @Test func startWithoutQueueOfAKnownWorkIsUnexplained() {
        var s = Synthetic()
        s.work("workqueue_queue_work", pid: 14)
        s.work("workqueue_execute_start", pid: 50)
        s.work("workqueue_execute_end", pid: 50)
        let orphan = s.work("workqueue_execute_start", pid: 50)
        let g = s.graph()
        #expect(g.unlinked.map(\.node) == [orphan])
        #expect(g.unlinked.first?.reason == .unexplained)
    }

    @Test func flushesAndZeroLengthCompletionsAreNotPairedLikeData() {
        var s = Synthetic()
        let q = s.block("block_bio_queue", rwbs: "FWFSM", sector: 524368, nr: 8)
        let f1 = s.block("block_rq_issue", pid: 44, rwbs: "FF", sector: 0, nr: 0)
        let f1c = s.block("block_rq_complete", pid: 22, rwbs: "FF", sector: UInt64.max, nr: 0)
        let ins = s.block("block_rq_insert", pid: 53, rwbs: "WSM", sector: 524368, nr: 8)
        let iss = s.block("block_rq_issue", pid: 53, rwbs: "WSM", sector: 524368, nr: 8)
        let data = s.block("block_rq_complete", pid: 22, rwbs: "WSM", sector: 524368, nr: 8)
        let f2 = s.block("block_rq_issue", pid: 53, rwbs: "FF", sector: 0, nr: 0)
        let f2c = s.block("block_rq_complete", pid: 22, rwbs: "FF", sector: UInt64.max, nr: 0)
        let end = s.block("block_rq_complete", pid: 22, rwbs: "WSM", sector: 524368, nr: 0)
        let g = s.graph()
        #expect(g.unlinked.isEmpty)
        let block = Set(g.outgoing(q).map(\.to))
        #expect(block == [ins])
        #expect(g.outgoing(f1).map(\.to) == [f1c])
        #expect(g.outgoing(f2).map(\.to) == [f2c])
        #expect(g.outgoing(ins).map(\.to) == [iss])
        #expect(g.outgoing(iss).map(\.to) == [data])
        #expect(g.outgoing(data).map(\.to) == [end])
        #expect(g.objectCounts[.flush] == 2)
    }

    @Test func flushCompletionWithoutIssueIsUnlinked() {
        var s = Synthetic()
        let c = s.block("block_rq_complete", pid: 22, rwbs: "FF", sector: UInt64.max, nr: 0)
        let d = s.block("block_rq_complete", pid: 22, rwbs: "WS", sector: 800, nr: 8)
        let g = s.graph()
        #expect(g.unlinked.map(\.node) == [c, d])
        #expect(g.unlinked.allSatisfy { $0.kind == .bioCompletion && $0.reason == .traceStart })
    }

    @Test func splitBioCompletesWhenAllItsRequestsDo() {
        var s = Synthetic()
        let q = s.block("block_bio_queue", sector: 17016, nr: 2048)
        let i1 = s.block("block_rq_issue", sector: 17016, nr: 1056)
        let i2 = s.block("block_rq_issue", sector: 18072, nr: 992)
        s.block("block_rq_complete", pid: 14, sector: 17016, nr: 1056)
        let c2 = s.block("block_rq_complete", pid: 14, sector: 18072, nr: 992)
        let g = s.graph()
        #expect(Set(g.outgoing(q).map(\.to)) == [i1, i2])
        #expect(g.unlinked.isEmpty)
        #expect(g.isBefore(q, c2))
    }

    @Test func inodeReuseGivesDistinctObjects() {
        var s = Synthetic()
        let old = s.inodeEvent("ext4_truncate_enter", ino: 12)
        s.add("ext4_evict_inode", [("dev", s.d), ("ino", .unsigned(12)), ("nlink", .signed(0))])
        let freed = s.inodeEvent("ext4_free_inode", ino: 12)
        let alloc = s.add("ext4_allocate_inode", [("dev", s.d), ("ino", .unsigned(12)), ("dir", .unsigned(2)), ("mode", .unsigned(0o100644))])
        let new = s.inodeEvent("ext4_truncate_enter", ino: 12)
        let g = s.graph()
        #expect(g.inode(of: old) == g.inode(of: freed))
        #expect(g.inode(of: alloc) == g.inode(of: new))
        #expect(g.inode(of: old) != g.inode(of: new))
        #expect(g.objectCounts[.inode] == 2)
        // The inode subgraph of one generation holds only its events.
        let gen1 = g.subgraph(.inode(12, generation: 1)).nodes.map(\.index)
        #expect(gen1 == [alloc, new])
    }

    @Test func syscallsPairPerTaskAndOrphanExitsAreReported() {
        var s = Synthetic()
        let orphan = s.add("sys_exit_fsync", pid: 7, [("ret", .signed(0))])
        let enter = s.add("sys_enter_ioctl", pid: 8, [("fd", .unsigned(3)), ("cmd", .unsigned(0xFFFF_FFFF_C004_5877))])
        let exit = s.add("sys_exit_ioctl", pid: 8, [("ret", .signed(0))])
        let g = s.graph()
        #expect(g.outgoing(enter) == [Edge(from: enter, to: exit, kind: .syscall)])
        #expect(g.unlinked.map(\.node) == [orphan])
        #expect(g.unlinked.first?.kind == .syscallExit)
        #expect(g.node(enter).detail == 0xC004_5877)
    }

    @Test func wakeupLinksToTheSwitchOntoTheTask() {
        var s = Synthetic()
        let w = s.add("sched_wakeup", pid: 14, [("comm", .string("kworker")), ("pid", .signed(50)), ("prio", .signed(120)), ("target_cpu", .signed(1))])
        let sw = s.add("sched_switch", pid: 0, cpu: 1, [("prev_pid", .signed(0)), ("next_pid", .signed(50))])
        let g = s.graph()
        #expect(g.outgoing(w) == [Edge(from: w, to: sw, kind: .wakeup)])
    }

    @Test func idleTasksOfDifferentCPUsAreDifferentChains() {
        var s = Synthetic()
        let a = s.add("sched_switch", pid: 0, cpu: 0, [("prev_pid", .signed(0)), ("next_pid", .signed(5))])
        let b = s.add("sched_switch", pid: 0, cpu: 1, [("prev_pid", .signed(0)), ("next_pid", .signed(6))])
        let g = s.graph()
        #expect(!g.isBefore(a, b))
        #expect(g.edgeCounts[.programOrder] == 0)
    }

    @Test func backwardEdgesFromSkewedClocksKeepQueriesRight() {
        var s = Synthetic()
        // The completion on CPU 1 is stamped before the issue on CPU 0.
        s.records.append(.event(TraceEvent(timestamp: 10, cpu: 0, pid: 100, comm: "w", name: "block_bio_queue",
            fields: EventFields([EventField("dev", s.d), EventField("sector", .unsigned(8)), EventField("nr_sector", .unsigned(8)), EventField("rwbs", .string("W"))]))))
        s.records.append(.event(TraceEvent(timestamp: 12, cpu: 1, pid: 14, comm: "irq", name: "block_rq_complete",
            fields: EventFields([EventField("dev", s.d), EventField("sector", .unsigned(8)), EventField("nr_sector", .unsigned(8)), EventField("rwbs", .string("W")), EventField("error", .signed(0))]))))
        s.records.append(.event(TraceEvent(timestamp: 13, cpu: 1, pid: 14, comm: "irq", name: "workqueue_queue_work",
            fields: EventFields([EventField("work", .unsigned(1)), EventField("function", .string("f"))]))))
        let g = s.graph()
        #expect(g.backwardEdges == 0)
        #expect(g.isBefore(0, 2))
    }
}

@Suite struct SyntheticFlushTests {
    @Test func emptyPreflushBioEndsWithItsZeroLengthCompletion() {
        var s = Synthetic()
        let bio = s.block("block_bio_queue", pid: 7, rwbs: "FWS", sector: 0, nr: 0)
        let issue = s.block("block_rq_issue", pid: 44, rwbs: "FF", sector: 0, nr: 0)
        let flushDone = s.block("block_rq_complete", pid: 22, rwbs: "FF", sector: UInt64.max, nr: 0)
        let end = s.block("block_rq_complete", pid: 22, rwbs: "WS", sector: 0, nr: 0)
        let g = s.graph()
        #expect(g.unlinked.isEmpty)
        #expect(g.outgoing(bio).map(\.to) == [issue])
        #expect(g.outgoing(flushDone).map(\.to) == [end])
        #expect(g.isBefore(bio, end))
    }

    @Test func barrierWorkNeedsNoQueueing() {
        var s = Synthetic()
        s.work("workqueue_execute_start", pid: 50, function: "wq_barrier_func")
        s.work("workqueue_execute_end", pid: 50, function: "wq_barrier_func")
        let g = s.graph()
        #expect(g.unlinked.isEmpty)
        #expect(g.workItems.count == 1)
    }
}

@Suite struct SyntheticPartitionTests {
    @Test func partitionOffsetAndBlockSizeAreDerivedAndUsed() {
        var s = Synthetic()
        let fs = FieldValue.device(DeviceNumber(major: 8, minor: 1))
        let disk = FieldValue.device(DeviceNumber(major: 8, minor: 0))
        // 1 KiB blocks (2 sectors each) on a partition starting at sector 2048.
        func mapAndSubmit(_ s: inout Synthetic, lblk: UInt64, pblk: UInt64) -> (Int, Int) {
            let m = s.add("ext4_ext_map_blocks_exit", [("dev", fs), ("ino", .unsigned(12)), ("flags", .unsigned(0x42B)),
                                                       ("pblk", .unsigned(pblk)), ("lblk", .unsigned(lblk)), ("len", .unsigned(4)),
                                                       ("mflags", .unsigned(1 << 5 | 1 << 4 | 1 << 11)), ("ret", .signed(4))])
            let b = s.add("block_bio_queue", [("dev", disk), ("sector", .unsigned(2048 + pblk * 2)), ("nr_sector", .unsigned(8)), ("rwbs", .string("WS"))])
            s.add("block_rq_issue", [("dev", disk), ("sector", .unsigned(2048 + pblk * 2)), ("nr_sector", .unsigned(8)), ("rwbs", .string("WS"))])
            s.add("block_rq_complete", pid: 14, [("dev", disk), ("sector", .unsigned(2048 + pblk * 2)), ("nr_sector", .unsigned(8)),
                                                 ("rwbs", .string("WS")), ("error", .signed(0))])
            return (m, b)
        }
        let (m1, b1) = mapAndSubmit(&s, lblk: 0, pblk: 500)
        _ = mapAndSubmit(&s, lblk: 4, pblk: 900)
        let dirty = s.add("writeback_dirty_folio", [("name", .string("8:0")), ("ino", .unsigned(12)), ("index", .unsigned(0))])
        let conv = s.add("ext4_ext_handle_unwritten_extents", pid: 50, [("dev", fs), ("ino", .unsigned(12)), ("flags", .signed(0x433)),
                                                                        ("lblk", .unsigned(0)), ("pblk", .unsigned(500)), ("len", .unsigned(4)),
                                                                        ("allocated", .unsigned(4)), ("newblk", .unsigned(500))])
        let g = s.graph()
        let geometry = g.geometries.first
        #expect(geometry?.blockSize == 1024)
        #expect(geometry?.startSector == 2048)
        #expect(geometry?.fsDevice == DeviceNumber(major: 8, minor: 1))
        #expect(geometry?.diskDevice == DeviceNumber(major: 8, minor: 0))
        #expect(g.incoming(b1).contains(Edge(from: m1, to: b1, kind: .extentBio)))
        #expect(g.conversions.first?.isLinked == true)
        #expect(g.conversions.first?.conversion == conv)
        // The bdi of the disk names the partition's file system.
        #expect(g.inode(of: dirty) == g.inode(of: m1))
    }
}
