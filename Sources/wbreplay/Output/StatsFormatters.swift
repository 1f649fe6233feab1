import EventGraph
import Foundation
import TraceIO

/// The report `wbreplay stats` renders: the library's statistics plus what
/// the file says about itself.
struct StatsReport {
    var path: String
    var metadata: TraceMetadata
    var stats: TraceStatistics
    /// The event graph's objects, edges and unlinked events (nil with --no-graph).
    var graph: GraphSummary?

    /// Events the kernel overwrote in overwrite mode: only the text header's
    /// entries-in-buffer/entries-written tells, and not per CPU.
    var overwritten: UInt64? {
        guard let inBuffer = metadata.entriesInBuffer, let written = metadata.entriesWritten,
              written > inBuffer else { return nil }
        return written - inBuffer
    }
}

/// `stats --format json`, with the keys docs/cli.md documents.
struct JSONStatsFormatter: OutputFormatter {
    struct Document: Encodable {
        var schema_version = Schema.version
        var trace: String
        var format: String
        var events: UInt64
        var by_event: [String: UInt64]
        var by_cpu: [String: UInt64]
        var lost_by_cpu: [String: UInt64]
        var lost_unknown_cpus: [Int]
        var overwritten: UInt64?
        var damaged_events: UInt64
        var first_ns: UInt64?
        var last_ns: UInt64?
        var clock: String?
        var kernel: String?
        var instance: String?
        var devices: [String]
        var inodes: [String]
        var objects: [String: Int]?
        var edges: [String: Int]?
        var unlinked: [String: Int]?
        var unlinked_detail: [String: UnlinkedDetail]?
        var geometry: [Geometry]?
    }

    struct UnlinkedDetail: Encodable {
        var explained: Int
        var unexplained: Int
        var reasons: [String: Int]
    }

    struct Geometry: Encodable {
        var fs_dev: String
        var disk_dev: String
        var block_size: UInt64?
        var start_sector: UInt64?
    }

    func write(_ r: StatsReport, to out: OutputStream) {
        let doc = Document(
            trace: r.path,
            format: r.metadata.format.description,
            events: r.stats.events,
            by_event: r.stats.byEvent,
            by_cpu: Dictionary(uniqueKeysWithValues: r.stats.byCPU.map { (String($0.key), $0.value) }),
            lost_by_cpu: Dictionary(uniqueKeysWithValues: r.stats.lostByCPU.map { (String($0.key), $0.value) }),
            lost_unknown_cpus: r.stats.unknownLossCPUs.sorted(),
            overwritten: r.overwritten,
            damaged_events: r.stats.damagedEvents,
            first_ns: r.stats.firstTimestamp,
            last_ns: r.stats.lastTimestamp,
            clock: r.metadata.clock,
            kernel: r.metadata.kernelRelease,
            instance: r.metadata.instance,
            devices: r.stats.devices.sorted().map(\.description),
            inodes: r.stats.inodes.sorted().map(\.description),
            objects: r.graph.map { g in Dictionary(uniqueKeysWithValues: g.objects.map { ($0.key.rawValue, $0.value) }) },
            edges: r.graph.map { g in Dictionary(uniqueKeysWithValues: g.edges.map { ($0.key.name, $0.value) }) },
            unlinked: r.graph.map { g in Dictionary(uniqueKeysWithValues: g.unlinked.map { ($0.key.rawValue, $0.value.total) }) },
            unlinked_detail: r.graph.map { g in
                Dictionary(uniqueKeysWithValues: g.unlinked.map { kind, count in
                    (kind.rawValue, UnlinkedDetail(
                        explained: count.explained, unexplained: count.unexplained,
                        reasons: Dictionary(uniqueKeysWithValues: count.byReason.map { ($0.key.rawValue, $0.value) })))
                })
            },
            geometry: r.graph.map { g in
                g.geometries.map {
                    Geometry(fs_dev: $0.fsDevice.description, disk_dev: $0.diskDevice.description,
                             block_size: $0.blockSize, start_sector: $0.startSector)
                }
            }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        let data = (try? encoder.encode(doc)) ?? Data()
        out.write(data)
        out.write(byte: 0x0A)
    }
}

/// `stats --format text`: a summary a person reads.
struct TextStatsFormatter: OutputFormatter {
    func write(_ r: StatsReport, to out: OutputStream) {
        let s = r.stats
        var lines: [String] = []
        lines.append("trace:    \(r.path) (\(r.metadata.format))")
        if let k = r.metadata.kernelRelease { lines.append("kernel:   \(k)") }
        lines.append("clock:    \(r.metadata.clock ?? "unknown (not recorded in the file)")")
        if let i = r.metadata.instance { lines.append("instance: \(i)") }
        lines.append("events:   \(s.events)")
        if let first = s.firstTimestamp, let last = s.lastTimestamp {
            lines.append("span:     \(seconds(first)) .. \(seconds(last)) s (\(seconds(last - first)) s)")
        }
        let cpus = s.byCPU.keys.sorted().map { "cpu\($0)=\(s.byCPU[$0]!)" }
        lines.append("per cpu:  \(cpus.joined(separator: " "))")
        if s.lostByCPU.isEmpty && r.overwritten == nil {
            lines.append("lost:     none")
        } else {
            let lost = s.lostByCPU.keys.sorted().map { cpu in
                s.unknownLossCPUs.contains(cpu) && s.lostByCPU[cpu] == 0
                    ? "cpu\(cpu)=unknown" : "cpu\(cpu)=\(s.lostByCPU[cpu]!)"
            }
            var line = "lost:     \(lost.joined(separator: " "))"
            if let o = r.overwritten { line += " overwritten=\(o) (entries-written minus entries-in-buffer)" }
            lines.append(line)
        }
        lines.append("damaged:  \(s.damagedEvents == 0 ? "none" : "\(s.damagedEvents) events skipped (garbled or cut lines, records with an unknown event id or too short for their format)")")
        lines.append("devices:  \(s.devices.sorted().map(\.description).joined(separator: " "))")
        lines.append("inodes:   \(s.inodes.count) (\(s.inodes.sorted().prefix(12).map(\.description).joined(separator: " "))\(s.inodes.count > 12 ? " …" : ""))")
        if let g = r.graph {
            lines.append("objects:  " + g.objects.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " "))
            lines.append("edges:    " + g.edges.sorted { $0.key.name < $1.key.name }
                .map { "\($0.key.name)=\($0.value)" }.joined(separator: " "))
            lines.append("unlinked: " + g.unlinked.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { kind, count in
                    let reasons = count.byReason.sorted { $0.key.rawValue < $1.key.rawValue }
                        .map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
                    return "\(kind.rawValue)=\(count.total)" + (reasons.isEmpty ? "" : " (\(reasons))")
                }.joined(separator: " "))
        }
        lines.append("by event:")
        let width = s.byEvent.keys.map(\.count).max() ?? 0
        for (name, count) in s.byEvent.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            lines.append("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(count)")
        }
        out.write(lines.joined(separator: "\n"))
        out.write(byte: 0x0A)
    }

    private func seconds(_ ns: UInt64) -> String {
        let frac = String(ns % 1_000_000_000)
        return "\(ns / 1_000_000_000).\(String(repeating: "0", count: 9 - frac.count))\(frac)"
    }
}
