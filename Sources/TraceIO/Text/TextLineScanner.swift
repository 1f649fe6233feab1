/// What one line of a text trace is.
enum TextLine {
    case event(EventLine)
    /// `CPU:N [LOST M EVENTS]` (tracefs) or `CPU:N [M EVENTS DROPPED]` (trace-cmd report).
    case lost(cpu: Int, count: UInt64?)
    /// Blank lines, `#` comments, report headers (`cpus=`, `version = `).
    case ignorable
    case damaged
}

/// The parts of an event line, as byte offsets into the line.
struct EventLine {
    /// The `NAME:` buffer-instance prefix of multi-instance trace-cmd report output.
    var instance: Range<Int>?
    var comm: Range<Int>
    var pid: Int32
    var cpu: Int
    var timestamp: UInt64
    /// 1000 for microsecond text, 1 for nanoseconds (`trace-cmd report -t`).
    var resolution: UInt64
    /// Where the event's own text starts (`ext4_…: …`, `sys_fsync(fd: 3)`).
    var eventStart: Int
}

/// Splits the fixed columns off a text trace line without creating strings.
///
/// tracefs `trace`:  `     jbd2/loop0-8-4797    [001] d.s2.   518.460281: NAME: fields`
/// (optionally `(tgid)` after the pid and no irq-flags column);
/// trace-cmd report: `[INSTANCE:]   comm-pid  [001]   518.460280532: NAME: fields`,
/// with `-l`: `comm-pid  1d..2.  518.460281: …` (CPU number glued to the flags).
/// Task names may contain spaces and dashes: the pid is the digits after the
/// last dash before the CPU column.
enum TextLineScanner {
    static func scan(_ line: UnsafeBufferPointer<UInt8>) -> TextLine {
        var start = 0
        while start < line.count, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        if start == line.count { return .ignorable }
        let first = line[start]
        if first == UInt8(ascii: "#") { return .ignorable }
        if start == 0, line.matches(cpusPrefix, at: 0) || line.matches(versionPrefix, at: 0) {
            return .ignorable
        }

        // A buffer-instance prefix: comm is right-aligned in 16 columns, so an
        // event line without one always starts with a space.
        var instance: Range<Int>?
        if start == 0, let colon = firstInstanceColon(line) {
            instance = 0..<colon
            start = colon + 1
            while start < line.count, line[start] == 0x20 { start += 1 }
        }
        if line.matches(cpuPrefix, at: start) { return lostLine(line, start + cpuPrefix.count) }

        guard let (tsStart, tsEnd, timestamp, resolution) = findTimestamp(line, from: start)
        else { return .damaged }

        // The CPU column: `[001]`, then maybe an irq-flags token; or `-l`'s `1d..2.`.
        var headEnd = tsStart
        while headEnd > start, line[headEnd - 1] == 0x20 { headEnd -= 1 }
        var cpu = -1
        var tokenStart = lastTokenStart(line, start, headEnd)
        if line[tokenStart] != UInt8(ascii: "["), NumberScanner.isDigit(line[tokenStart]) {
            // -l latency format: CPU digits glued to the flags.
            var i = tokenStart
            var n = 0
            while i < headEnd, NumberScanner.isDigit(line[i]), n < 1 << 20 { n = n * 10 + Int(line[i] &- 0x30); i += 1 }
            cpu = n
            headEnd = tokenStart
        } else {
            if line[tokenStart] != UInt8(ascii: "[") {
                // Skip the irq-flags column.
                headEnd = tokenStart
                while headEnd > start, line[headEnd - 1] == 0x20 { headEnd -= 1 }
                guard headEnd > start else { return .damaged }
                tokenStart = lastTokenStart(line, start, headEnd)
            }
            guard let c = bracketedNumber(line, tokenStart, headEnd) else { return .damaged }
            cpu = c
            headEnd = tokenStart
        }
        while headEnd > start, line[headEnd - 1] == 0x20 { headEnd -= 1 }
        // Optional `(  tgid)` column of options/record-tgid.
        if headEnd > start, line[headEnd - 1] == UInt8(ascii: ")") {
            var open = headEnd - 1
            while open > start, line[open] != UInt8(ascii: "(") { open -= 1 }
            headEnd = open
            while headEnd > start, line[headEnd - 1] == 0x20 { headEnd -= 1 }
        }
        // comm-pid: the digits after the last dash.
        var dash = headEnd - 1
        while dash > start, NumberScanner.isDigit(line[dash]) { dash -= 1 }
        guard dash >= start, dash < headEnd - 1, line[dash] == UInt8(ascii: "-") else { return .damaged }
        var pid: Int64 = 0
        for i in (dash + 1)..<headEnd where pid < Int64(Int32.max) { pid = pid * 10 + Int64(line[i] &- 0x30) }
        guard pid <= Int64(Int32.max) else { return .damaged }

        var eventStart = tsEnd
        while eventStart < line.count, line[eventStart] == 0x20 { eventStart += 1 }
        guard eventStart < line.count else { return .damaged }
        return .event(EventLine(
            instance: instance, comm: start..<dash, pid: Int32(pid), cpu: cpu,
            timestamp: timestamp, resolution: resolution, eventStart: eventStart))
    }

    /// The timestamp column: `SECONDS.FRACTION:` preceded by a space (or,
    /// for counter clocks, `COUNT:`). Returns its start, the index after the
    /// colon, nanoseconds and resolution.
    static func findTimestamp(_ line: UnsafeBufferPointer<UInt8>, from start: Int)
        -> (Int, Int, UInt64, UInt64)?
    {
        var i = start
        while i < line.count {
            if line[i] == UInt8(ascii: ":"), i + 1 == line.count || line[i + 1] == 0x20 {
                var j = i
                var dot = -1
                while j > start, NumberScanner.isDigit(line[j - 1]) || (line[j - 1] == 0x2E && dot < 0) {
                    if line[j - 1] == 0x2E { dot = j - 1 }
                    j -= 1
                }
                if j < i, j > start, line[j - 1] == 0x20, dot != j, dot != i - 1 {
                    var seconds: UInt64 = 0
                    var fraction: UInt64 = 0
                    var digits = 0
                    let intEnd = dot < 0 ? i : dot
                    for k in j..<intEnd { seconds = seconds &* 10 &+ UInt64(line[k] &- 0x30) }
                    if dot < 0 { return (j, i + 1, seconds, 1) }
                    for k in (dot + 1)..<i where digits < 9 {
                        fraction = fraction * 10 + UInt64(line[k] &- 0x30)
                        digits += 1
                    }
                    var resolution: UInt64 = 1
                    for _ in digits..<9 { resolution *= 10 }
                    return (j, i + 1, seconds &* 1_000_000_000 &+ fraction * resolution, resolution)
                }
            }
            i += 1
        }
        return nil
    }

    /// `CPU:N [LOST M EVENTS]`, `CPU:N [LOST EVENTS]`, `CPU:N [M EVENTS DROPPED]`.
    static func lostLine(_ line: UnsafeBufferPointer<UInt8>, _ at: Int) -> TextLine {
        guard let (cpu, afterCPU) = NumberScanner.scan(line, at, radix: 10), cpu < 1 << 20,
              let open = (afterCPU..<line.count).first(where: { line[$0] == UInt8(ascii: "[") })
        else { return .damaged }
        var i = open + 1
        if line.matches(lostWord, at: i) { i += lostWord.count }
        let count = NumberScanner.scan(line, i, radix: 10)?.0
        guard (i..<line.count).contains(where: { line[$0] == UInt8(ascii: "]") }) else { return .damaged }
        return .lost(cpu: Int(cpu), count: count)
    }

    /// The colon ending a leading `NAME:` token followed by a space, if any.
    private static func firstInstanceColon(_ line: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        while i < line.count, line[i] != 0x20 {
            if line[i] == UInt8(ascii: ":") {
                return i > 0 && i + 1 < line.count && line[i + 1] == 0x20 && !line.matches(cpuPrefix, at: 0) ? i : nil
            }
            i += 1
        }
        return nil
    }

    private static func lastTokenStart(_ line: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        var i = end
        while i > start, line[i - 1] != 0x20 { i -= 1 }
        return i
    }

    private static func bracketedNumber(_ line: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        guard end - start >= 3, line[start] == UInt8(ascii: "["), line[end - 1] == UInt8(ascii: "]") else { return nil }
        var n = 0
        for i in (start + 1)..<(end - 1) {
            guard NumberScanner.isDigit(line[i]), n < 1 << 20 else { return nil }
            n = n * 10 + Int(line[i] &- 0x30)
        }
        return n
    }

    static let cpusPrefix = Array("cpus=".utf8)
    static let versionPrefix = Array("version = ".utf8)
    static let cpuPrefix = Array("CPU:".utf8)
    static let lostWord = Array("LOST ".utf8)
}
