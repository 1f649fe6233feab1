/// Renders a subgraph in one output format. The CLI picks one
/// implementation per `--format`; the library never prints.
public protocol GraphFormatter: Sendable {
    func format(_ graph: Subgraph) -> String
}

/// Graphviz DOT: one cluster per task, edges coloured by kind, program order dashed.
public struct DOTGraphFormatter: GraphFormatter {
    public var name: String

    public init(name: String = "wbreplay") { self.name = name }

    public func format(_ graph: Subgraph) -> String {
        var out = "digraph \(quote(name)) {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n"
        var byTask: [Int32: [EventNode]] = [:]
        var order: [Int32] = []
        for n in graph.nodes {
            if byTask[n.pid] == nil { order.append(n.pid) }
            byTask[n.pid, default: []].append(n)
        }
        for pid in order {
            let members = byTask[pid] ?? []
            let comm = members.first?.comm ?? ""
            out += "  subgraph cluster_\(pid < 0 ? "m\(-pid)" : String(pid)) {\n"
            out += "    label=\(quote("\(comm)-\(pid)"));\n"
            for n in members { out += "    n\(n.index) [label=\(quote(label(n)))];\n" }
            out += "  }\n"
        }
        for e in graph.edges {
            out += "  n\(e.from) -> n\(e.to) [\(style(e.kind))];\n"
        }
        out += "}\n"
        return out
    }

    func label(_ n: EventNode) -> String {
        var text = "#\(n.index) \(n.name)\n\(timeText(n.timestamp)) cpu\(n.cpu)"
        if let inode = n.inode { text += " ino \(inode)" }
        if n.detail != 0 { text += " @\(n.detail)" }
        return text
    }

    func style(_ kind: EdgeKind) -> String {
        let color: String
        switch kind {
        case .programOrder: return "style=dashed, color=gray60, label=\"\""
        case .syscall, .span: color = "gray30"
        case .work: color = "darkgreen"
        case .blockIO: color = "blue"
        case .extentBio: color = "purple"
        case .extentConversion: color = "darkorange"
        case .bioConversion: color = "red"
        case .conversionWritten: color = "brown"
        case .commit: color = "teal"
        case .wakeup: color = "magenta"
        }
        return "color=\(color), label=\(quote(kind.name)), fontsize=8"
    }

    func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }
}

/// JSON: `{"nodes": [{"id", "ts_ns", "cpu", "pid", "comm", "event", "inode", "detail"}],
/// "edges": [{"from", "to", "kind"}]}`; `inode` is "MAJ:MIN:INO" (plus "#GEN" after reuse) or null.
public struct JSONGraphFormatter: GraphFormatter {
    public init() {}

    public func format(_ graph: Subgraph) -> String {
        var out = "{\"nodes\":["
        for (i, n) in graph.nodes.enumerated() {
            if i > 0 { out += "," }
            out += "{\"id\":\(n.index),\"ts_ns\":\(n.timestamp),\"cpu\":\(n.cpu),\"pid\":\(n.pid),"
            out += "\"comm\":\(jsonString(n.comm)),\"event\":\(jsonString(n.name)),"
            out += "\"inode\":\(n.inode.map { jsonString($0.description) } ?? "null"),\"detail\":\(n.detail)}"
        }
        out += "],\"edges\":["
        for (i, e) in graph.edges.enumerated() {
            if i > 0 { out += "," }
            out += "{\"from\":\(e.from),\"to\":\(e.to),\"kind\":\"\(e.kind.name)\"}"
        }
        out += "]}\n"
        return out
    }
}

/// A JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if ch.value < 0x20 {
                let hex = String(ch.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(ch)
            }
        }
    }
    return out + "\""
}

/// "518.585957123" seconds with nanoseconds.
func timeText(_ ns: UInt64) -> String {
    let frac = String(ns % 1_000_000_000)
    return "\(ns / 1_000_000_000)." + String(repeating: "0", count: 9 - frac.count) + frac
}
