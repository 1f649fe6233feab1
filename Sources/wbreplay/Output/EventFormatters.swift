import TraceIO

/// `events --format jsonl`: a header line
/// `{"schema_version":1,"trace":…,"format":…}`, then one object per line,
/// `{"index":…,"ts_ns":…,"cpu":…,"pid":…,"comm":…,"event":…,"fields":{…}}`.
/// A lost-events mark is a line `{"lost":N,"cpu":C,"ts_ns":T}` (N null when unknown).
struct JSONLinesEventFormatter: OutputFormatter {
    var trace: String
    var metadata: TraceMetadata

    func begin(_ out: OutputStream) {
        out.write(#"{"schema_version":"#.utf8)
        out.write(decimal: UInt64(Schema.version))
        out.write(#","trace":"#.utf8)
        JSONBytes.string(trace, to: out)
        out.write(#","format":"#.utf8)
        JSONBytes.string(metadata.format.description, to: out)
        out.write("}\n".utf8)
    }

    func write(_ indexed: IndexedRecord, to out: OutputStream) {
        switch indexed.record {
        case .event(let e):
            out.write(#"{"index":"#.utf8)
            out.write(decimal: UInt64(indexed.index))
            out.write(#","ts_ns":"#.utf8)
            out.write(decimal: e.timestamp)
            out.write(#","cpu":"#.utf8)
            out.write(decimal: Int64(e.cpu))
            out.write(#","pid":"#.utf8)
            out.write(decimal: Int64(e.pid))
            out.write(#","comm":"#.utf8)
            JSONBytes.string(e.comm, to: out)
            out.write(#","event":"#.utf8)
            JSONBytes.string(e.name, to: out)
            out.write(#","fields":{"#.utf8)
            var first = true
            for field in e.fields {
                if !first { out.write(byte: UInt8(ascii: ",")) }
                first = false
                JSONBytes.string(field.name, to: out)
                out.write(byte: UInt8(ascii: ":"))
                JSONBytes.value(field.value, to: out)
            }
            out.write(byte: UInt8(ascii: "}"))
            if e.fields.isEmpty, let raw = e.rawText, !raw.isEmpty {
                out.write(#","raw":"#.utf8)
                JSONBytes.string(raw, to: out)
            }
            out.write("}\n".utf8)
        case .lost(let l):
            out.write(#"{"lost":"#.utf8)
            if let n = l.count { out.write(decimal: n) } else { out.write("null".utf8) }
            out.write(#","cpu":"#.utf8)
            out.write(decimal: Int64(l.cpu))
            out.write(#","ts_ns":"#.utf8)
            if let t = l.timestamp { out.write(decimal: t) } else { out.write("null".utf8) }
            out.write("}\n".utf8)
        }
    }
}

/// `events --format text`: one line per event, its index (`#N`) then the
/// shape of `trace-cmd report`, with the decoded fields as name=value
/// (devices as MAJ:MIN).
struct TextEventFormatter: OutputFormatter {
    func write(_ indexed: IndexedRecord, to out: OutputStream) {
        switch indexed.record {
        case .event(let e):
            out.write(byte: UInt8(ascii: "#"))
            out.write(decimal: UInt64(indexed.index))
            out.write(byte: UInt8(ascii: " "))
            out.write(e.comm)
            out.write(byte: UInt8(ascii: "-"))
            out.write(decimal: Int64(e.pid))
            out.write(" [".utf8)
            let cpu = String(e.cpu)
            out.write(String(repeating: "0", count: max(0, 3 - cpu.count)))
            out.write(cpu)
            out.write("] ".utf8)
            out.write(decimal: e.timestamp / 1_000_000_000)
            out.write(byte: UInt8(ascii: "."))
            let frac = String(e.timestamp % 1_000_000_000)
            out.write(String(repeating: "0", count: 9 - frac.count))
            out.write(frac)
            out.write(": ".utf8)
            out.write(e.name)
            out.write(byte: UInt8(ascii: ":"))
            if e.fields.isEmpty, let raw = e.rawText {
                out.write(byte: UInt8(ascii: " "))
                out.write(raw)
            }
            for field in e.fields {
                out.write(byte: UInt8(ascii: " "))
                out.write(field.name)
                out.write(byte: UInt8(ascii: "="))
                out.write(field.value.description)
            }
            out.write(byte: 0x0A)
        case .lost(let l):
            out.write("CPU:".utf8)
            out.write(decimal: Int64(l.cpu))
            if let n = l.count {
                out.write(" [LOST ".utf8)
                out.write(decimal: n)
                out.write(" EVENTS]\n".utf8)
            } else {
                out.write(" [LOST EVENTS]\n".utf8)
            }
        }
    }
}
