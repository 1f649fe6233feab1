import KernelEvents
import TraceIO

/// Checks an edited trace for the inconsistencies an edit could introduce
/// and a reviewer would spot: time going backwards, a task on two CPUs at
/// once, a task entering a syscall inside another, a journal handle
/// joining a transaction whose commit had already started, a work item
/// executing before it was queued. Returns one line per problem.
public enum Plausibility {
    public static func problems(_ t: CaseTrace) -> [String] { found(t).prefix(20).map(\.text) }

    /// The problems of an edited trace that its source does not have
    /// itself (`recorded`: `keys` of the source). A recording may show what
    /// looks wrong here and is not — fstests makes the file system again
    /// and mounts it, and the new journal counts its transactions from the
    /// start — so only what the edit added is held against it.
    public static func problems(_ t: CaseTrace, beyond recorded: Set<String>) -> [String] {
        found(t).filter { !recorded.contains($0.key) }.prefix(20).map(\.text)
    }

    /// Keys of a trace's problems: the event's time, task and the problem
    /// without the event's index (which an edit shifts).
    public static func keys(_ t: CaseTrace) -> Set<String> { Set(found(t).map(\.key)) }

    static func found(_ t: CaseTrace) -> [(key: String, text: String)] {
        var out = Found()
        var last: UInt64 = 0
        var lastOfTask: [Int32: (t: UInt64, cpu: Int)] = [:]
        var inSyscall: [Int32: String] = [:]
        var committing: [DeviceNumber: UInt64] = [:]
        var pending: [UInt64: Int] = [:]
        var decoder = KernelEventDecoder()
        var n = 0
        for r in t.records {
            guard case .event(let e) = r else { continue }
            defer { n += 1 }
            if e.timestamp < last { out.add(e, n, "event \(n) (\(e.name)) goes back in time") }
            last = max(last, e.timestamp)
            if e.pid != 0, let prev = lastOfTask[e.pid], prev.cpu != e.cpu, prev.t == e.timestamp,
               !e.name.hasPrefix("block_rq_complete") {
                out.add(e, n, "event \(n): task \(e.pid) on CPUs \(prev.cpu) and \(e.cpu) at the same time")
            }
            lastOfTask[e.pid] = (e.timestamp, e.cpu)
            switch decoder.decode(e) {
            case .syscall(.enter(let call, _)):
                if let open = inSyscall[e.pid] {
                    out.add(e, n, "event \(n): task \(e.pid) enters \(call.name) inside \(open)")
                }
                inSyscall[e.pid] = call.name
            case .syscall(.exit(let call, _)):
                if let open = inSyscall[e.pid], open != call.name {
                    out.add(e, n, "event \(n): task \(e.pid) leaves \(call.name) inside \(open)")
                }
                inSyscall[e.pid] = nil
            case .jbd2(.commit(.start, let dev, let tid)):
                committing[dev] = max(committing[dev] ?? 0, tid)
            case .jbd2(.handleStart(let dev, let tid, _)):
                if let c = committing[dev], tid <= c {
                    out.add(e, n, "event \(n): a handle joins transaction \(tid) after its commit started")
                }
            case .workqueue(.queue(let key, _)) where key.function == SiteFinder.conversionWork:
                pending[key.work, default: 0] += 1
            case .workqueue(.executeStart(let key)) where key.function == SiteFinder.conversionWork:
                // A work seen queued before runs once per queueing (the trace
                // may begin after an earlier queueing: unseen ones are not judged).
                if let q = pending[key.work] {
                    if q == 0 { out.add(e, n, "event \(n): conversion work \(key) runs again without being queued") }
                    pending[key.work] = max(0, q - 1)
                }
            default: break
            }
        }
        return out.list
    }
}

/// Problems as they are found, each keyed by its event's time and task.
struct Found {
    var list: [(key: String, text: String)] = []

    mutating func add(_ e: TraceEvent, _ n: Int, _ text: String) {
        let reason = text.drop { $0 != ":" && $0 != ")" }
        list.append(("\(e.timestamp) \(e.pid) \(e.name)\(reason)", text))
    }
}
