import EventGraph

/// Graphviz DOT laid out the way the seeds draw races: one column (lane) per
/// task, time going down, a row per step, so that `dot -Tsvg` gives a picture
/// as wide as the number of tasks and as tall as the number of events (the
/// library's DOTGraphFormatter puts a whole trace on one row). Program order
/// is the lane's dashed line; causal edges cross lanes without moving rows.
struct LaneDOTFormatter: GraphFormatter {
    var title: String
    /// Events drawn in bold (the target of `why`, the centre of `--around`).
    var highlighted: Set<Int> = []

    func format(_ graph: Subgraph) -> String {
        let nodes = graph.nodes.sorted { $0.index < $1.index }
        var laneOf: [String: Int] = [:]
        var lanes: [(key: String, label: String, members: [Int])] = []
        for n in nodes {
            let key = Self.laneKey(n)
            if laneOf[key] == nil {
                laneOf[key] = lanes.count
                lanes.append((key, n.pid == 0 ? "cpu \(n.cpu) (idle / irq)" : "\(n.comm)-\(n.pid)", []))
            }
            lanes[laneOf[key]!].members.append(n.index)
        }
        // Rows: stream order, a new row whenever the lane already has an
        // event in the current one, so rows never reorder time.
        var rows: [[EventNode]] = []
        var used: Set<Int> = []
        for n in nodes {
            let lane = laneOf[Self.laneKey(n)]!
            if rows.isEmpty || used.contains(lane) {
                rows.append([])
                used = []
            }
            rows[rows.count - 1].append(n)
            used.insert(lane)
        }
        var out = "digraph \(quote(title)) {\n"
        out += "  graph [rankdir=TB, newrank=true, nodesep=0.25, ranksep=0.2, fontname=\"monospace\", fontsize=11, label=\(quote(title)), labelloc=t];\n"
        out += "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"monospace\", fontsize=9, margin=\"0.08,0.03\"];\n"
        out += "  edge [fontname=\"monospace\", fontsize=8, arrowsize=0.6];\n"
        // The time axis: one label per row, chained invisibly to keep rows in order.
        for (r, row) in rows.enumerated() {
            out += "  t\(r) [shape=plaintext, style=\"\", fontsize=8, label=\(quote(seconds(row[0].timestamp) + " s"))];\n"
        }
        // In statements of at most 100 rows: Graphviz's parser runs out of
        // stack on one edge chain of thousands (2.43: "memory exhausted").
        for start in stride(from: 0, to: rows.count - 1, by: 99) {
            let chunk = start...min(start + 99, rows.count - 1)
            out += "  " + chunk.map { "t\($0)" }.joined(separator: " -> ") + " [style=invis];\n"
        }
        let byIndex = Dictionary(uniqueKeysWithValues: nodes.map { ($0.index, $0) })
        for (l, lane) in lanes.enumerated() {
            out += "  subgraph cluster_lane\(l) {\n    label=\(quote(lane.label)); style=\"rounded\"; color=gray70;\n"
            for i in lane.members {
                guard let n = byIndex[i] else { continue }
                let bold = highlighted.contains(i) ? ", penwidth=2.5, fillcolor=\"#fde2e2\"" : ""
                out += "    n\(i) [label=\(quote(label(n)))\(bold)];\n"
            }
            out += "  }\n"
        }
        for (r, row) in rows.enumerated() {
            out += "  { rank=same; t\(r); " + row.map { "n\($0.index);" }.joined(separator: " ") + " }\n"
        }
        for e in graph.edges {
            if e.kind == .programOrder {
                out += "  n\(e.from) -> n\(e.to) [style=dashed, color=gray60, arrowhead=none];\n"
            } else {
                out += "  n\(e.from) -> n\(e.to) [color=\(colour(e.kind)), fontcolor=\(colour(e.kind)), label=\(quote(e.kind.name)), constraint=false];\n"
            }
        }
        out += "}\n"
        return out
    }

    static func laneKey(_ n: EventNode) -> String { n.pid == 0 ? "idle\(n.cpu)" : "pid\(n.pid)" }

    private func label(_ n: EventNode) -> String {
        var text = "#\(n.index) \(n.name)\ncpu \(n.cpu)"
        if let inode = n.inode { text += "  ino \(inode)" }
        return text
    }

    private func colour(_ kind: EdgeKind) -> String {
        switch kind {
        case .programOrder: return "gray60"
        case .syscall, .span: return "gray30"
        case .work: return "darkgreen"
        case .blockIO: return "blue"
        case .extentBio: return "purple"
        case .extentConversion: return "darkorange"
        case .bioConversion: return "red"
        case .conversionWritten: return "brown"
        case .commit: return "teal"
        case .wakeup: return "magenta"
        }
    }

    private func quote(_ s: String) -> String {
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
