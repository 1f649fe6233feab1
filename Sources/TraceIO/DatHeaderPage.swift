/// The ring-buffer page header a trace.dat declares in its header_page
/// format (the kernel's events/header_page): a u64 timestamp, the commit word
/// (a `local_t`, the kernel's long) whose low 27 bits are the size of the
/// page's events, and the events.
///
/// Why it is parsed here: libtracecmd takes the size of the commit word from
/// this text (`tep_parse_header_page`, `tep_get_header_page_size`) and tells
/// libtraceevent's kbuffer to read it as 8 bytes if it is 8, else as 4; a
/// timestamp that is not 8 bytes makes libtracecmd fail to set up a CPU, and
/// its cleanup after that failure crashes (FuzzDatReader's find: a garbled
/// header_page in an instance). The page checks (`DatRingBufferPage`) must walk
/// pages exactly as kbuffer will, so they need the same layout — and only text
/// laid out as the kernel writes it is certain to parse the same way in
/// libtraceevent. Anything else is refused as damage.
struct DatHeaderPage: Equatable, Sendable {
    /// The commit word's size, 4 or 8 (kbuffer: KBUFFER_LSIZE_4/_8).
    let commitSize: Int
    /// Where events start in a page (kbuffer's `start`: 12 or 16).
    var dataOffset: Int { 8 + commitSize }

    /// The layout, or nil when `text` is not the kernel's header_page format:
    /// lines `\tfield: TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;` (signed is
    /// optional) for timestamp (offset 0, size 8), commit (offset 8, size 4
    /// or 8), an optional overwrite (offset 8) and data (after commit), in
    /// that order, each type a single word as libtraceevent requires.
    static func parse(_ text: [UInt8]) -> DatHeaderPage? {
        var lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var fields: [(name: [UInt8], offset: Int, size: Int)] = []
        for line in lines {
            guard let field = fieldLine(Array(line)) else { return nil }
            fields.append(field)
        }
        if fields.count == 4, fields[2].name == Array("overwrite".utf8), fields[2].offset == 8 {
            fields.remove(at: 2)
        }
        guard fields.count == 3,
              fields[0].name == Array("timestamp".utf8), fields[0].offset == 0, fields[0].size == 8,
              fields[1].name == Array("commit".utf8), fields[1].offset == 8,
              fields[1].size == 4 || fields[1].size == 8,
              fields[2].name == Array("data".utf8), fields[2].offset == 8 + fields[1].size
        else { return nil }
        return DatHeaderPage(commitSize: fields[1].size)
    }

    /// One `\tfield: TYPE NAME;\toffset:N;\tsize:N;[\tsigned:N;]` line.
    private static func fieldLine(_ line: [UInt8]) -> (name: [UInt8], offset: Int, size: Int)? {
        var p = 0
        func literal(_ s: String) -> Bool {
            let bytes = Array(s.utf8)
            guard line.count - p >= bytes.count, Array(line[p..<(p + bytes.count)]) == bytes else { return false }
            p += bytes.count
            return true
        }
        func word() -> [UInt8]? {
            let start = p
            while p < line.count, isWordByte(line[p]) { p += 1 }
            return p > start ? Array(line[start..<p]) : nil
        }
        func number() -> Int? {
            let start = p
            while p < line.count, p - start < 6, line[p] >= UInt8(ascii: "0"), line[p] <= UInt8(ascii: "9") { p += 1 }
            guard p > start, p == line.count || !isWordByte(line[p]) else { return nil }
            return line[start..<p].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        }
        guard literal("\tfield: "), word() != nil, literal(" "), let name = word(),
              literal(";\toffset:"), let offset = number(), literal(";\tsize:"), let size = number(), literal(";")
        else { return nil }
        if p < line.count {
            guard literal("\tsigned:"), number() != nil, literal(";"), p == line.count else { return nil }
        }
        return (name, offset, size)
    }

    /// A byte of a libtraceevent word (its tokenizer's item: alphanumerics and `_`).
    static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }
}
