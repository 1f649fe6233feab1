import Dispatch
import Synchronization

extension TextReader {
    /// Streams the records in parts of the file — runs of whole lines of
    /// about equal size — decoded in parallel, one sink per part: the fastest
    /// way through a text trace for consumers that combine partial results
    /// (counts, histograms). Returns the sinks in file order.
    ///
    /// Each sink receives its part's records in order, with one exception: a
    /// loss whose LOST lines are not all in the part of the event they
    /// precede (a gap across a part's start) is given to that event's part
    /// after its other records, with the event's timestamp; losses no event
    /// follows go to the last part, as `forEach` gives them last. The losses,
    /// damaged lines (`damagedLines`, `firstDamagedLine`) and
    /// `unmatchedFieldLines` are those of `forEach`. Event format numbers
    /// (`TraceEvent.formatID`) are each part's own, and so is the choice
    /// among print formats that several kernels print alike
    /// (`TextEventDecoder`): `forEach` narrows the kernel by every line
    /// before, a part by its own lines, so such an event early in a part
    /// can get its fields in another kernel's order, or another kernel's
    /// values where their formats print them alike (names, timestamps,
    /// devices and inodes are the same).
    public func forEachPart<Sink: PerCPURecordSink>(
        _ options: ReadOptions, makeSink: (_ part: Int) -> Sink
    ) throws -> [Sink] {
        let ranges = file.withBytes { TextPartPlan.ranges(of: $0, parts: partCount ?? TextPartPlan.parts(forBytes: $0.count)) }
        let sinks = PartSlots(ranges.indices.map(makeSink))
        let runs = PartSlots([TextLineRun?](repeating: nil, count: ranges.count))
        let mismatches = PartSlots([Int](repeating: 0, count: ranges.count))
        let quirks = metadata.format == .traceCmdReport
        let failure = Mutex<(any Error)?>(nil)
        let file = self.file
        DispatchQueue.concurrentPerform(iterations: ranges.count) { part in
            var decoder = TextEventDecoder(options: options, libtraceeventQuirks: quirks)
            var run = TextLineRun(holdsLeading: true)
            do {
                try file.withBytes { all in
                    try run.scan(all, range: ranges[part], decoder: &decoder, file: file) { record in
                        try sinks.pointer[part].consume(record)
                    }
                }
            } catch {
                failure.withLock { if $0 == nil { $0 = error } }
            }
            runs.pointer[part] = run
            mismatches.pointer[part] = decoder.specMismatches
        }
        if let error = failure.withLock({ $0 }) { throw error }
        var losses = TextPartLosses()
        var lines = 0
        var damaged = 0
        var firstDamaged: Int?
        for part in ranges.indices {
            let run = runs.pointer[part]!
            for lost in losses.join(run) { try sinks.pointer[part].consume(.lost(lost)) }
            if firstDamaged == nil, let first = run.firstDamaged { firstDamaged = lines + first }
            lines += run.lines
            damaged += run.damaged
        }
        if let last = ranges.indices.last {
            for lost in losses.remaining { try sinks.pointer[last].consume(.lost(lost)) }
        }
        damagedLines = damaged
        firstDamagedLine = firstDamaged
        unmatchedFieldLines = mismatches.take().reduce(0, +)
        return sinks.take()
    }
}

/// How a text trace is cut into parts for `TextReader.forEachPart`.
enum TextPartPlan {
    /// Parts per core: more than one evens out uneven lines.
    static let partsPerWorker = 4
    /// Below this a part costs more to set up than it saves.
    static let minimumPartBytes = 4 << 20

    static func parts(forBytes count: Int) -> Int {
        max(1, min(DatParallelReading.workerCount * partsPerWorker, count / minimumPartBytes))
    }

    /// `parts` ranges covering `bytes`, each ending just after a newline
    /// (the last one at the end of the file); fewer when lines are long.
    static func ranges(of bytes: UnsafeBufferPointer<UInt8>, parts: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        for index in 1...max(1, parts) {
            guard start < bytes.count else { break }
            var end = index == parts ? bytes.count : max(start, bytes.count / parts * index)
            while end < bytes.count, end > 0, bytes[end - 1] != 0x0A { end += 1 }
            if end > start { ranges.append(start..<end) }
            start = end
        }
        return ranges.isEmpty ? [0..<bytes.count] : ranges
    }
}

/// Joins the losses of consecutive parts as one pass over the whole file
/// would: a CPU's LOST lines up to its next event are one gap, reported
/// with that event's timestamp.
struct TextPartLosses {
    /// Per CPU, the gap carried from earlier parts.
    private var carried: [LostEvents?] = []

    /// The losses that `run` (the next part) resolves: for each CPU it has
    /// an event of, what was carried joined with what came before that
    /// event in the part. Carries the rest on.
    mutating func join(_ run: TextLineRun) -> [LostEvents] {
        if carried.count < run.seen.count {
            carried += repeatElement(nil, count: run.seen.count - carried.count)
        }
        var resolved: [LostEvents] = []
        for cpu in run.seen.indices {
            let gap = TextLineRun.joined(carried[cpu], run.leading[cpu])
            if run.seen[cpu] {
                if var gap {
                    gap.timestamp = run.firstTimestamps[cpu]
                    resolved.append(gap)
                }
                carried[cpu] = run.pending[cpu]
            } else {
                carried[cpu] = gap
            }
        }
        return resolved
    }

    /// The gaps no event followed, by CPU.
    var remaining: [LostEvents] { carried.compactMap { $0 } }
}
