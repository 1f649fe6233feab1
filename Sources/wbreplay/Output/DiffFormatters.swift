import Replay
import WritebackModel

/// A fraction as JSON: four decimals, no exponent.
private func fraction(_ x: Double, _ out: OutputStream) {
    let scaled = Int((x * 10_000).rounded())
    out.write("\(scaled / 10_000).")
    let rest = String(scaled % 10_000)
    out.write(String(repeating: "0", count: 4 - rest.count) + rest)
}

private func duration(_ ns: UInt64?) -> String {
    guard let ns else { return "-" }
    if ns < 10_000 { return "\(ns) ns" }
    if ns < 10_000_000 { return "\(ns / 1000) µs" }
    return "\(ns / 1_000_000) ms"
}

/// `diff FILE --format json` (docs/cli.md): `best_profile`, per profile
/// `conformance` and `first_divergence`, per-kind object counts, every
/// kind's first divergence and the state history.
struct JSONProfileDiffFormatter: OutputFormatter {
    func write(_ r: ProfileDiffReport, to out: OutputStream) {
        out.write("{\"schema_version\": "); out.write(decimal: UInt64(Schema.version))
        out.write(", \"trace\": "); JSONBytes.string(r.trace, to: out)
        out.write(", \"events\": "); out.write(decimal: UInt64(r.events))
        out.write(", \"lost_events\": "); out.write(decimal: r.lostEvents)
        out.write(", \"recorded_release\": ")
        if let rel = r.recordedRelease { JSONBytes.string(rel, to: out) } else { out.write("null") }
        out.write(", \"best_profile\": "); JSONBytes.string(r.bestProfile.rawValue, to: out)
        out.write(", \"reason\": "); JSONBytes.string(r.reason, to: out)
        out.write(", \"profiles\": [")
        for (i, p) in r.profiles.enumerated() {
            if i > 0 { out.write(", ") }
            profile(p, out)
        }
        out.write("]}\n")
    }

    private func profile(_ p: ProfileConformance, _ out: OutputStream) {
        out.write("{\"profile\": "); JSONBytes.string(p.profile.rawValue, to: out)
        out.write(", \"conformance\": "); fraction(p.conformance, out)
        out.write(", \"divergences\": "); out.write(decimal: UInt64(p.divergenceCount))
        out.write(", \"objects\": {")
        for (i, kind) in ReplayObjectKind.allCases.enumerated() {
            if i > 0 { out.write(", ") }
            JSONBytes.string(kind.rawValue, to: out)
            out.write(": {\"objects\": "); out.write(decimal: UInt64(p.objects.objects[kind] ?? 0))
            out.write(", \"diverging\": "); out.write(decimal: UInt64(p.objects.diverging[kind] ?? 0))
            out.write(", \"conformance\": "); fraction(p.objects.conformance(kind), out)
            out.write("}")
        }
        out.write("}, \"first_divergence\": ")
        if let f = p.first { divergence(f, out) } else { out.write("null") }
        out.write(", \"first_divergences\": [")
        for (i, f) in p.firstDivergences.enumerated() {
            if i > 0 { out.write(", ") }
            divergence(f, out)
        }
        out.write("]}")
    }

    private func divergence(_ f: FirstDivergence, _ out: OutputStream) {
        let d = f.divergence
        out.write("{\"kind\": "); JSONBytes.string(d.kind.rawValue, to: out)
        out.write(", \"object\": "); JSONBytes.string(d.object, to: out)
        out.write(", \"event\": "); out.write(decimal: UInt64(d.eventIndex))
        out.write(", \"ts_ns\": "); out.write(decimal: d.timestamp)
        out.write(", \"transition\": "); JSONBytes.string(d.kernelFunction, to: out)
        out.write(", \"reason\": "); JSONBytes.string(d.reason, to: out)
        out.write(", \"expected\": "); JSONBytes.strings(d.expected, to: out)
        out.write(", \"observed\": "); JSONBytes.string(d.observed, to: out)
        out.write(", \"history\": "); JSONBytes.stateChanges(f.history, to: out)
        out.write("}")
    }
}

/// `diff FILE --format text`: a conformance table, the verdict, and each
/// profile's first divergences with expected vs observed and the history.
struct TextProfileDiffFormatter: OutputFormatter {
    func write(_ r: ProfileDiffReport, to out: OutputStream) {
        out.write("\(r.trace): \(r.events) events\(r.lostEvents > 0 ? ", \(r.lostEvents) lost" : "")\n")
        let kinds = ReplayObjectKind.allCases
        out.write("profile       conform  diverg  " + kinds.map { pad($0.rawValue, 18) }.joined() + "\n")
        for p in r.profiles {
            var line = pad(p.profile.rawValue, 14) + pad(ProfileDiff.percent(p.conformance), 9) + pad("\(p.divergenceCount)", 8)
            for k in kinds {
                let n = p.objects.objects[k] ?? 0, bad = p.objects.diverging[k] ?? 0
                line += pad(n == 0 && bad == 0 ? "-" : "\(max(n, bad) - bad)/\(max(n, bad))", 18)
            }
            out.write(line.trimmingTrailingSpaces() + "\n")
        }
        out.write("\nbest match: \(r.bestProfile) (\(r.reason))\n")
        for p in r.profiles where !p.firstDivergences.isEmpty {
            out.write("\n\(p.profile): first divergence per object kind\n")
            for f in p.firstDivergences {
                let d = f.divergence
                out.write("  [\(d.kind.rawValue)] \(d.object) at event \(d.eventIndex) (\(seconds(d.timestamp)) s): \(d.reason)\n")
                out.write("    expected: \(d.expected.joined(separator: " | "))\n")
                out.write("    observed: \(d.observed)\n")
                for c in f.history.suffix(8) {
                    out.write("    history: event \(c.eventIndex)  \(c.transition) → \(c.state)\n")
                }
            }
        }
    }

    private func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(1, n - s.count)) }
}

/// `diff A B --format json`.
struct JSONTraceDiffFormatter: OutputFormatter {
    func write(_ r: TraceDiffReport, to out: OutputStream) {
        out.write("{\"schema_version\": "); out.write(decimal: UInt64(Schema.version))
        out.write(", \"a\": "); side(r.a, out)
        out.write(", \"b\": "); side(r.b, out)
        out.write(", \"differences\": "); out.write(decimal: UInt64(r.differenceCount))
        out.write(", \"kinds\": [")
        for (i, c) in r.changes.enumerated() {
            if i > 0 { out.write(", ") }
            out.write("{\"kind\": "); JSONBytes.string(c.kind.rawValue, to: out)
            out.write(", \"objects_a\": "); out.write(decimal: UInt64(c.objectsA))
            out.write(", \"objects_b\": "); out.write(decimal: UInt64(c.objectsB))
            out.write(", \"new_transitions\": "); JSONBytes.strings(c.newTransitions, to: out)
            out.write(", \"removed_transitions\": "); JSONBytes.strings(c.removedTransitions, to: out)
            out.write(", \"new_lifecycles\": "); shares(c.newSignatures, out)
            out.write(", \"removed_lifecycles\": "); shares(c.removedSignatures, out)
            out.write(", \"reordered\": [")
            for (j, pair) in c.reordered.enumerated() {
                if j > 0 { out.write(", ") }
                out.write("{\"a\": "); JSONBytes.string(pair.a, to: out)
                out.write(", \"b\": "); JSONBytes.string(pair.b, to: out); out.write("}")
            }
            out.write("]}")
        }
        out.write("], \"latencies\": [")
        for (i, l) in r.latencies.enumerated() {
            if i > 0 { out.write(", ") }
            out.write("{\"metric\": "); JSONBytes.string(l.metric, to: out)
            out.write(", \"a\": "); percentiles(l.a, out)
            out.write(", \"b\": "); percentiles(l.b, out)
            out.write("}")
        }
        out.write("]}\n")
    }

    private func side(_ t: TraceLifecycles, _ out: OutputStream) {
        out.write("{\"trace\": "); JSONBytes.string(t.trace, to: out)
        out.write(", \"profile\": "); JSONBytes.string(t.profile.rawValue, to: out)
        out.write(", \"events\": "); out.write(decimal: UInt64(t.events))
        out.write(", \"lifecycles\": {")
        for (i, k) in t.kinds.enumerated() {
            if i > 0 { out.write(", ") }
            JSONBytes.string(k.kind.rawValue, to: out)
            out.write(": {\"objects\": "); out.write(decimal: UInt64(k.objects))
            out.write(", \"unfinished\": "); out.write(decimal: UInt64(k.unfinished))
            out.write(", \"signatures\": {")
            for (j, s) in k.signatures.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }).enumerated() {
                if j > 0 { out.write(", ") }
                JSONBytes.string(s.key, to: out); out.write(": "); out.write(decimal: UInt64(s.value))
            }
            out.write("}}")
        }
        out.write("}}")
    }

    private func shares(_ list: [KindChange.SignatureShare], _ out: OutputStream) {
        out.write("[")
        for (i, s) in list.enumerated() {
            if i > 0 { out.write(", ") }
            out.write("{\"lifecycle\": "); JSONBytes.string(s.signature, to: out)
            out.write(", \"count_a\": "); out.write(decimal: UInt64(s.countA))
            out.write(", \"count_b\": "); out.write(decimal: UInt64(s.countB)); out.write("}")
        }
        out.write("]")
    }

    private func percentiles(_ s: LatencySamples, _ out: OutputStream) {
        out.write("{\"count\": "); out.write(decimal: UInt64(s.samples.count))
        for (name, p) in [("p50_ns", 50.0), ("p90_ns", 90.0), ("p99_ns", 99.0), ("max_ns", 100.0)] {
            out.write(", \"\(name)\": ")
            if let v = s.percentile(p) { out.write(decimal: v) } else { out.write("null") }
        }
        out.write("}")
    }
}

/// `diff A B --format text`.
struct TextTraceDiffFormatter: OutputFormatter {
    func write(_ r: TraceDiffReport, to out: OutputStream) {
        out.write("A: \(r.a.trace) (\(r.a.events) events, \(r.a.profile))\n")
        out.write("B: \(r.b.trace) (\(r.b.events) events, \(r.b.profile))\n")
        for c in r.changes {
            out.write("\n\(c.kind.rawValue): \(c.objectsA) in A, \(c.objectsB) in B\n")
            if c.isEmpty { out.write("  same transitions and lifecycles\n") }
            for t in c.newTransitions { out.write("  + transition \(t) (only in B)\n") }
            for t in c.removedTransitions { out.write("  - transition \(t) (only in A)\n") }
            for s in c.newSignatures { out.write("  + lifecycle ×\(s.countB): \(s.signature)\n") }
            for s in c.removedSignatures { out.write("  - lifecycle ×\(s.countA): \(s.signature)\n") }
            for p in c.reordered { out.write("  ~ reordered:\n      A: \(p.a)\n      B: \(p.b)\n") }
        }
        out.write("\nlatency                      A p50 / p90 / p99            B p50 / p90 / p99\n")
        for l in r.latencies {
            let a = [50.0, 90, 99].map { duration(l.a.percentile($0)) }.joined(separator: " / ")
            let b = [50.0, 90, 99].map { duration(l.b.percentile($0)) }.joined(separator: " / ")
            out.write(l.metric + String(repeating: " ", count: max(1, 29 - l.metric.count)) + a
                      + String(repeating: " ", count: max(1, 29 - a.count)) + b + "\n")
        }
        out.write("\n\(r.differenceCount == 0 ? "no difference in behaviour" : "\(r.differenceCount) object kind(s) behave differently")\n")
    }
}
