import TraceIO

/// Clocks whose timestamps compare across CPUs (trace_clock, `man 5 tracefs`):
/// `local` is per-CPU; an unknown clock (tracefs text does not say) is treated as per-CPU.
public let globalClocks: Set<String> = ["mono", "global", "mono_raw", "boot", "tai", "counter", "x86-tsc"]

enum CaseAssembly {
    /// The event at stream index `i` (lost records not counted).
    static func event(at i: Int, in records: [TraceRecord]) -> TraceEvent? {
        var n = 0
        for r in records {
            guard case .event(let e) = r else { continue }
            if n == i { return e }
            n += 1
        }
        return nil
    }

    /// A deciding event from its tag and the tags of the events of the same step.
    static func deciding(_ tag: String, sameStep: [String], records: [TraceRecord], tags: [String: Int]) -> DecidingEvent? {
        guard let i = tags[tag], let e = event(at: i, in: records) else { return nil }
        var others: [Int: String] = [:]
        for t in sameStep { if let j = tags[t], let o = event(at: j, in: records) { others[j] = o.name } }
        return DecidingEvent(index: i, name: e.name, cpu: e.cpu, timestamp: e.timestamp, sameStep: others)
    }

    /// The metadata (and the recording marker, when the trace has one) of a clock variant.
    static func apply(_ clock: ClockVariant, to metadata: inout TraceMetadata, records: inout [TraceRecord]) {
        let recordedGlobal = metadata.clock.map { globalClocks.contains($0) } ?? false
        let new: String?
        switch clock {
        case .recorded: return
        case .global: new = recordedGlobal ? metadata.clock : "mono"
        case .perCPU: new = recordedGlobal ? "local" : metadata.clock
        }
        guard new != metadata.clock, let new else { return }
        metadata.clock = new
        if metadata.recording["clock"] != nil { metadata.recording["clock"] = new }
        // wbreplay's recording marker says the clock too: keep it in agreement.
        for (k, r) in records.enumerated() {
            guard case .event(var e) = r, let buf = e.fields.string("buf"), buf.contains("wbreplay-recording:") else { continue }
            let fixed = buf.split(separator: " ", omittingEmptySubsequences: false).map {
                $0.hasPrefix("clock=") ? "clock=\(new)" : String($0)
            }.joined(separator: " ")
            if let f = e.fields.storage.firstIndex(where: { $0.name == "buf" }) { e.fields.storage[f].value = .string(fixed) }
            if let raw = e.rawText, let old = raw.range(of: buf) { e.rawText = raw.replacingCharacters(in: old, with: fixed) }
            records[k] = .event(e)
        }
    }

    /// The device needs stable pages: the metadata (and wbreplay's recording
    /// marker, when the trace has one) says so.
    static func markStableWrites(_ t: inout CaseTrace) {
        t.stableWrites = true
        if t.metadata.recording["stable_writes"] != nil { t.metadata.recording["stable_writes"] = "1" }
        for (k, r) in t.records.enumerated() {
            guard case .event(var e) = r, let buf = e.fields.string("buf"), buf.contains("wbreplay-recording:"),
                  buf.contains("stable_writes=0") else { continue }
            let fixed = buf.replacingOccurrences(of: "stable_writes=0", with: "stable_writes=1")
            if let f = e.fields.storage.firstIndex(where: { $0.name == "buf" }) { e.fields.storage[f].value = .string(fixed) }
            e.rawText = e.rawText?.replacingOccurrences(of: "stable_writes=0", with: "stable_writes=1")
            t.records[k] = .event(e)
        }
    }

    /// The verdict construction guarantees for an ordering under a clock.
    static func verdict(_ ordering: Ordering, _ clock: ClockVariant, recordedClock: String?) -> ExpectedVerdict {
        guard ordering == .unordered else { return .violated }
        switch clock {
        case .global: return .violated
        case .perCPU: return .inconclusive
        case .recorded: return recordedClock.map { globalClocks.contains($0) } == true ? .violated : .inconclusive
        }
    }
}
