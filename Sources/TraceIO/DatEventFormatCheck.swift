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
/// their own fields, with one exception seen (7.3's `REC->ent.pid`, a member
/// of the common header): a `REC->NAME.MEMBER` whose NAME is no field passes
/// when no `__print_flags`/`__print_symbolic` flag can be pending there, and a
/// `__print_flags` must hand its flag to a field of its own format.
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
        let printFlags = Array("__print_flags".utf8)
        let printSymbolic = Array("__print_symbolic".utf8)
        // libtraceevent's two flags (see above), as far as this text tells:
        // a `__print_flags` flag pending at the start would be an earlier
        // format's, and every format passed leaves none (below); a
        // `__print_symbolic` one may be (ext4_fc_stats: `__print_symbolic(0, …)`).
        var flagPending = false
        var symbolicPending = true
        while p + 3 <= text.count {
            if text[p] == UInt8(ascii: "_"), p == 0 || !DatHeaderPage.isWordByte(text[p - 1]) {
                if startsWith(text, p, text.count, printFlags) {
                    flagPending = true
                    p += printFlags.count
                    continue
                }
                if startsWith(text, p, text.count, printSymbolic) {
                    symbolicPending = true
                    p += printSymbolic.count
                    continue
                }
            }
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
            if fields.contains(name) {
                // The reference takes the pending flag, else the symbolic one.
                if flagPending { flagPending = false } else { symbolicPending = false }
            } else if !flagPending, !symbolicPending, isMemberAccess(text, at: q) {
                // 7.3's vmscan events print `REC->ent.pid` (`ent`, the common
                // header, is no field of the format): libtraceevent stops
                // parsing at the `.` and prints the event raw; with no flag
                // pending, its lookup of `ent` is never dereferenced.
                continue
            } else {
                return "its print format reads REC->\(String(decoding: name, as: UTF8.self)), which is not one of its fields"
            }
        }
        // A `__print_flags` whose flag no reference took would reach into the
        // next format's first reference (every kernel's first argument reads a field).
        if flagPending { return "its print format has a __print_flags that reads no field" }
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
                guard let close = arraySizeEnd(text, from: p + 1, to: end) else { return nil }
                p = close + 1
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

    /// Whether `.MEMBER` (an identifier) follows at `at`, blanks allowed around the dot.
    private static func isMemberAccess(_ text: UnsafeRawBufferPointer, at start: Int) -> Bool {
        var q = start
        while q < text.count, isSpace(text[q]) { q += 1 }
        guard q < text.count, text[q] == UInt8(ascii: ".") else { return false }
        q += 1
        while q < text.count, isSpace(text[q]) { q += 1 }
        guard q < text.count else { return false }
        let byte = text[q] | 0x20
        return text[q] == UInt8(ascii: "_") || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
    }

    /// The index of the `]` that closes an array size starting at `from`, when
    /// the size is empty, a number or a constant expression as the kernel
    /// stringifies it (5.10's `ftrace/branch`: `char func[30+1]`, from
    /// `TRACE_FUNC_SIZE+1`): numbers, identifiers, `+ - * / % < > ( )` and
    /// blanks. libtraceevent joins the tokens up to `]` and reads the leading
    /// number, whatever follows. A number run into letters (`1x`) is no C
    /// token: refused.
    private static func arraySizeEnd(_ text: UnsafeRawBufferPointer, from: Int, to end: Int) -> Int? {
        var p = from
        while p < end {
            let byte = text[p]
            if byte == UInt8(ascii: "]") { return p }
            if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                // A decimal or 0x number with C's integer suffixes.
                var q = p + 1
                if byte == UInt8(ascii: "0"), q < end, text[q] | 0x20 == UInt8(ascii: "x") {
                    q += 1
                    while q < end, isHexDigit(text[q]) { q += 1 }
                } else {
                    while q < end, text[q] >= UInt8(ascii: "0"), text[q] <= UInt8(ascii: "9") { q += 1 }
                }
                while q < end, text[q] | 0x20 == UInt8(ascii: "u") || text[q] | 0x20 == UInt8(ascii: "l") { q += 1 }
                guard q == end || !DatHeaderPage.isWordByte(text[q]) else { return nil }
                p = q
            } else if DatHeaderPage.isWordByte(byte) {
                while p < end, DatHeaderPage.isWordByte(text[p]) { p += 1 }
            } else if isSpace(byte) || isSizeOperator(byte) {
                p += 1
            } else {
                return nil
            }
        }
        return nil
    }

    private static func isSizeOperator(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "/"), UInt8(ascii: "%"),
             UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "("), UInt8(ascii: ")"):
            return true
        default:
            return false
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
    }

    /// libtraceevent's tokenizer skips these (isspace without the newline).
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0d && byte != 0x0a)
    }

    private static func startsWith(_ text: UnsafeRawBufferPointer, _ at: Int, _ end: Int, _ prefix: [UInt8]) -> Bool {
        guard end - at >= prefix.count else { return false }
        for i in 0..<prefix.count where text[at + i] != prefix[i] { return false }
        return true
    }

    private static func startsWith(_ text: UnsafeRawBufferPointer, _ at: Int, _ end: Int, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard end - at >= count else { return false }
        let bytes = prefix.utf8Start
        for i in 0..<count where text[at + i] != bytes[i] { return false }
        return true
    }
}
