import TraceIO

/// Rewrites one field's value in the printed text of a text-trace event,
/// the way the kernel printed it in the template: the same label, the same
/// radix (filemap prints `ino` in hex and `ofs` in bytes, syscall exits in
/// hex, block completions their error in brackets). When the old value
/// cannot be found unambiguously the text is dropped (nil), and readers of
/// the case print the event from its fields instead.
enum PrintedText {
    /// Where a field's value sits in the printed text: between `before` and `after`.
    struct Site {
        var before: String
        var after: String
    }

    static func substitute(in raw: String, event: String, field: String, old: FieldValue, new: FieldValue) -> String? {
        let forms = renderings(old, field: field, event: event)
        let newForms = renderings(new, field: field, event: event)
        for site in sites(field: field, event: event) {
            for (k, form) in forms.enumerated() {
                let pattern = site.before + form + site.after
                guard let r = find(pattern, in: raw), isTokenBoundary(raw, r, site) else { continue }
                var out = raw
                out.replaceSubrange(r, with: site.before + newForms[k] + site.after)
                return out
            }
        }
        // No label: the value alone, if it appears exactly once as a token.
        for (k, form) in forms.enumerated() {
            let hits = tokenRanges(of: form, in: raw)
            if hits.count == 1 {
                var out = raw
                out.replaceSubrange(hits[0], with: newForms[k])
                return out
            }
        }
        return nil
    }

    /// Printed forms of a value, most specific first; `new` values are
    /// rendered in the same order, so the k-th form of the old value is
    /// replaced by the k-th form of the new one.
    static func renderings(_ v: FieldValue, field: String, event: String) -> [String] {
        switch v {
        case .string(let s): return [s]
        case .device(let d): return ["\(d.major),\(d.minor)", "\(d.major):\(d.minor)"]
        case .signed, .unsigned:
            let u = v.uint64 ?? 0
            let hex = String(u, radix: 16)
            if event.hasPrefix("mm_filemap_") {
                switch field {
                case "i_ino": return [hex]
                case "index": return [String(u &* 4096)]
                case "pfn": return ["0x" + hex]
                default: break
                }
            }
            if event.hasPrefix("sys_exit_") { return ["0x" + hex] }
            if event.hasPrefix("sys_") {
                // The syscall tracer prints arguments below 10 in decimal, the rest in hex.
                return [u < 10 ? String(u) : "0x" + hex]
            }
            if field == "work" { return [String(repeating: "0", count: max(0, 16 - hex.count)) + hex] }
            let decimal: String
            if case .signed(let s) = v { decimal = String(s) } else { decimal = String(u) }
            return [decimal, "0x" + hex]
        }
    }

    /// The labels a field is printed after (the print formats of 6.x).
    static func sites(field: String, event: String) -> [Site] {
        var labels: [String] = [field]
        if event.hasPrefix("ext4_es_") {
            // `es [lblk/len) mapped pblk status W`
            switch field {
            case "lblk": return [Site(before: "[", after: "/")]
            case "len": return [Site(before: "/", after: ")")]
            case "pblk": return [Site(before: "mapped ", after: "")]
            default: break
            }
        }
        switch field {
        case "i_ino": labels = ["ino"]
        case "s_dev": labels = ["dev"]
        case "index": labels = ["ofs", "index", "folio_index"]
        case "lblk", "pblk", "len": labels = [field, "m_" + field]
        case "start": labels = ["since", "start"]
        case "newblk": labels = ["newblock"]
        case "transaction": labels = ["transaction", "tid"]
        case "error", "errors": return [Site(before: "[", after: "]")]
        case "sector": return [Site(before: " ", after: " + ")]
        case "nr_sector": return [Site(before: "+ ", after: "")]
        case "comm": return [Site(before: "[", after: "]")]
        default: break
        }
        return labels.flatMap { l in [Site(before: l + " ", after: ""), Site(before: l + "=", after: ""),
                                      Site(before: l + ": ", after: "")] }
    }

    /// The value must end where a token ends (not `12` inside `123`).
    static func isTokenBoundary(_ raw: String, _ r: Range<String.Index>, _ site: Site) -> Bool {
        guard site.after.isEmpty, r.upperBound < raw.endIndex else { return true }
        let next = raw[r.upperBound]
        return !(next.isLetter || next.isNumber)
    }

    static func tokenRanges(of token: String, in raw: String) -> [Range<String.Index>] {
        var out: [Range<String.Index>] = []
        var from = raw.startIndex
        while let r = find(token, in: raw, from: from) {
            let beforeOK = r.lowerBound == raw.startIndex || !isWord(raw[raw.index(before: r.lowerBound)])
            let afterOK = r.upperBound == raw.endIndex || !isWord(raw[r.upperBound])
            if beforeOK && afterOK { out.append(r) }
            from = r.upperBound
        }
        return out
    }

    /// The first occurrence of `pattern` in `raw` at or after `from`, by
    /// UTF-8 bytes (Foundation's `range(of:)` costs a bridge per call, and
    /// an eviction rewrites thousands of lines). A match of valid UTF-8
    /// starts on a scalar boundary.
    static func find(_ pattern: String, in raw: String, from: String.Index? = nil) -> Range<String.Index>? {
        let hay = raw.utf8
        let needle = Array(pattern.utf8)
        guard let head = needle.first else { return nil }
        var i = from ?? hay.startIndex
        while i < hay.endIndex, let j = hay[i...].firstIndex(of: head) {
            if hay[j...].starts(with: needle) { return j..<hay.index(j, offsetBy: needle.count) }
            i = hay.index(after: j)
        }
        return nil
    }

    static func isWord(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
}
