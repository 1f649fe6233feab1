/// Checks an event format text (the kernel's events/SYSTEM/EVENT/format, as
/// stored in a trace.dat) before libtraceevent parses it: every `REC->NAME`
/// must name one of the format's fields.
///
/// Why: libtraceevent 1.7's print-format parser (`process_entry`) looks the
/// field up and, when the reference is the first after a `__print_flags` or
/// `__print_symbolic` — a state it keeps in process globals, across events and
/// across files — sets a flag on it without checking that it was found: a
/// NULL dereference (FuzzDatReader's find: one byte of `REC->state` changed in
/// writeback's `sb_clear_inode_writeback`; `trace-cmd report` crashes on it
/// too). Since the global state can come from any earlier format, every
/// reference must resolve.
///
/// Fields are taken only from lines before the print format that are laid
/// out as the kernel writes them (`field:TYPE NAME;`, `field:TYPE NAME[N];`,
/// `field:TYPE[] NAME;`), whose names libtraceevent reads the same way; a
/// field line in any other shape is not counted, so a reference to it is
/// refused. That errs towards refusing: a kernel's own formats reference only
/// their own fields.
///
/// Also: libtraceevent 1.7's `process_sizeof` frees a token twice (glibc
/// aborts) for `sizeof(int)`, `sizeof(unsigned int)`, `sizeof(long long)`,
/// `sizeof(unsigned long long)` and `sizeof(REC->field)` (fixed upstream in
/// "libtraceevent: Fix double free in parsing sizeof()", after 1.7.1). Other
/// forms fail to parse (`sizeof(u64)`, which 6.x dma formats use: the print
/// format is dropped there) or parse safely (`sizeof(long)`, `sizeof(unsigned)`).
/// The sizeofs are judged in order up to the first that ends the parse.
enum DatEventFormatCheck {
    /// Nil when every `REC->` reference of `text` names a field and its print
    /// format passes the sizeof, table and division checks; else the first
    /// damage found.
    static func damage(in text: UnsafeRawBufferPointer) -> String? {
        var fields: [ArraySlice<UInt8>] = []
        var lineStart = 0
        /// Just past "print" on the print format's line.
        var printFormat = text.count
        while lineStart < text.count {
            var lineEnd = lineStart
            while lineEnd < text.count, text[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            var p = lineStart
            while p < lineEnd, isSpace(text[p]) { p += 1 }
            if startsWith(text, p, lineEnd, "print") {
                printFormat = p + 5
                break
            }
            // libtraceevent 1.7's field parser reads an array's brackets
            // token by token up to "]" and compares the NULL token of the
            // text's end with it (FuzzDatReader's find): a "[" must close on its line.
            if startsWith(text, p, lineEnd, "field:") {
                var open = false
                for q in p..<lineEnd {
                    if text[q] == UInt8(ascii: "[") { open = true }
                    if text[q] == UInt8(ascii: "]") { open = false }
                }
                if open { return "a field line opens an array bracket it does not close" }
            }
            if startsWith(text, p, lineEnd, "field:"), let name = fieldName(text, from: p + 6, to: lineEnd) {
                fields.append(name)
            }
            lineStart = lineEnd + 1
        }
        // Every reference in the whole text, also inside strings and longer
        // words: more than libtraceevent resolves, never less.
        var p = 0
        let rec = Array("REC".utf8)
        while p + 3 <= text.count {
            guard text[p] == rec[0], text[p + 1] == rec[1], text[p + 2] == rec[2] else { p += 1; continue }
            var q = p + 3
            p += 3
            while q < text.count, isSpace(text[q]) || text[q] == UInt8(ascii: "\n") { q += 1 }
            guard q + 2 <= text.count, text[q] == UInt8(ascii: "-"), text[q + 1] == UInt8(ascii: ">") else { continue }
            q += 2
            while q < text.count, isSpace(text[q]) || text[q] == UInt8(ascii: "\n") { q += 1 }
            let nameStart = q
            while q < text.count, DatHeaderPage.isWordByte(text[q]) { q += 1 }
            guard q > nameStart else { continue }
            let name = ArraySlice(UnsafeRawBufferPointer(rebasing: text[nameStart..<q]))
            if !fields.contains(name) {
                return "its print format reads REC->\(String(decoding: name, as: UTF8.self)), which is not one of its fields"
            }
        }
        let tokens = PrintFormatTokens(text, from: printFormat).all
        return sizeofDamage(in: text) ?? DatPrintFormatTables.damage(in: tokens) ?? DatPrintFormatArithmetic.damage(in: tokens)
    }

    /// The first `sizeof(...)` libtraceevent 1.7 would free twice, if the
    /// parse gets there.
    private static func sizeofDamage(in text: UnsafeRawBufferPointer) -> String? {
        var p = 0
        func skipSpace() {
            while p < text.count, isSpace(text[p]) || text[p] == UInt8(ascii: "\n") { p += 1 }
        }
        func word() -> String? {
            let start = p
            while p < text.count, DatHeaderPage.isWordByte(text[p]) { p += 1 }
            return p > start ? String(decoding: UnsafeRawBufferPointer(rebasing: text[start..<p]), as: UTF8.self) : nil
        }
        let keyword = Array("sizeof".utf8)
        while p + keyword.count <= text.count {
            let isKeyword = (p == 0 || !DatHeaderPage.isWordByte(text[p - 1]))
                && (0..<keyword.count).allSatisfy { text[p + $0] == keyword[$0] }
            guard isKeyword else { p += 1; continue }
            p += keyword.count
            guard p == text.count || !DatHeaderPage.isWordByte(text[p]) else { continue }
            skipSpace()
            guard p < text.count, text[p] == UInt8(ascii: "(") else { continue }
            p += 1
            skipSpace()
            let unsafe = "its print format has a sizeof() that libtraceevent 1.7 frees twice"
            switch word() {
            case "int", "REC":
                return unsafe
            case "long":
                skipSpace()
                if word() == "long" { return unsafe }
            case "unsigned":
                skipSpace()
                switch word() {
                case nil: break
                case "int": return unsafe
                case "long":
                    skipSpace()
                    if word() == "long" { return unsafe }
                default: return nil  // the parse fails here
                }
            default:
                return nil  // the parse fails here
            }
        }
        return nil
    }

    /// The name of a `field:` line in one of the kernel's shapes, else nil.
    /// `from` is just past "field:".
    private static func fieldName(_ text: UnsafeRawBufferPointer, from: Int, to lineEnd: Int) -> ArraySlice<UInt8>? {
        // The declaration ends at the first ';'.
        var end = from
        while end < lineEnd, text[end] != UInt8(ascii: ";") { end += 1 }
        guard end < lineEnd else { return nil }
        // Tokens: words, '*', and one bracket group "[digits]".
        var words: [Range<Int>] = []
        var bracketAfter: Int?  // number of words before the bracket group
        var p = from
        while p < end {
            let byte = text[p]
            if isSpace(byte) {
                p += 1
            } else if DatHeaderPage.isWordByte(byte) {
                let start = p
                while p < end, DatHeaderPage.isWordByte(text[p]) { p += 1 }
                words.append(start..<p)
            } else if byte == UInt8(ascii: "*") {
                guard bracketAfter == nil else { return nil }
                words.append(p..<(p + 1))
                p += 1
            } else if byte == UInt8(ascii: "["), bracketAfter == nil {
                p += 1
                while p < end, text[p] >= UInt8(ascii: "0"), text[p] <= UInt8(ascii: "9") { p += 1 }
                guard p < end, text[p] == UInt8(ascii: "]") else { return nil }
                p += 1
                bracketAfter = words.count
            } else {
                return nil
            }
        }
        let nameRange: Range<Int>
        if let before = bracketAfter, before < words.count {
            // TYPE[] NAME: exactly one word after the brackets, two or more
            // before (libtraceevent takes the last of those as the name at
            // first and finds no type otherwise).
            guard words.count == before + 1, before >= 2 else { return nil }
            nameRange = words[before]
        } else {
            // TYPE NAME or TYPE NAME[N]: at least one type word.
            guard words.count >= 2, let last = words.last else { return nil }
            nameRange = last
        }
        guard DatHeaderPage.isWordByte(text[nameRange.lowerBound]) else { return nil }
        return ArraySlice(UnsafeRawBufferPointer(rebasing: text[nameRange]))
    }

    /// libtraceevent's tokenizer skips these (isspace without the newline).
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0d && byte != 0x0a)
    }

    private static func startsWith(_ text: UnsafeRawBufferPointer, _ at: Int, _ end: Int, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard end - at >= count else { return false }
        let bytes = prefix.utf8Start
        for i in 0..<count where text[at + i] != bytes[i] { return false }
        return true
    }
}
