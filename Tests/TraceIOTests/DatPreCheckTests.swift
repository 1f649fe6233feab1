import Foundation
import Testing
@testable import TraceIO

/// The checks that run before libtracecmd sees a trace.dat, one by one:
/// the header_page layout, the event formats' field references and the
/// ring-buffer pages, each on what the kernel writes and on damage.
@Suite struct DatPreCheckTests {
    static let kernelHeaderPage = Array("""
    \tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;
    \tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;
    \tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;
    \tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;

    """.utf8)

    @Test func headerPageOfTheKernel() {
        #expect(DatHeaderPage.parse(Self.kernelHeaderPage) == DatHeaderPage(commitSize: 8))
        let thirtyTwoBit = String(decoding: Self.kernelHeaderPage, as: UTF8.self)
            .replacingOccurrences(of: "offset:8;\tsize:8", with: "offset:8;\tsize:4")
            .replacingOccurrences(of: "offset:16;", with: "offset:12;")
        #expect(DatHeaderPage.parse(Array(thirtyTwoBit.utf8)) == DatHeaderPage(commitSize: 4))
    }

    @Test(arguments: [
        ("size:8;\tsigned:0", "size:4;\tsigned:0"),  // a 4-byte timestamp
        ("u64 timestamp", "u6 4 timestamp"),          // two words for a type
        ("local_t commit", "local_t comit"),          // no commit field
        ("offset:16", "offset:24"),                   // data not after commit
        ("\tfield: u64", "\tfeld: u64"),
        ("size:4080", "size:99999999"),
    ])
    func headerPageDamage(from: String, to: String) {
        let text = String(decoding: Self.kernelHeaderPage, as: UTF8.self).replacingOccurrences(of: from, with: to)
        #expect(DatHeaderPage.parse(Array(text.utf8)) == nil)
        #expect(DatHeaderPage.parse([]) == nil)
    }

    static let format = """
    name: sb_clear_inode_writeback
    ID: 977
    format:
    \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
    \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

    \tfield:dev_t dev;\toffset:8;\tsize:4;\tsigned:0;
    \tfield:unsigned long state;\toffset:24;\tsize:8;\tsigned:0;
    \tfield:char comm[16];\toffset:32;\tsize:16;\tsigned:0;
    \tfield:__data_loc char[] name;\toffset:48;\tsize:4;\tsigned:0;
    \tfield:const char * str;\toffset:56;\tsize:8;\tsigned:0;

    print fmt: "dev %d state %s %s %s %s", REC->dev, __print_flags(REC->state, "|", {1, "A"}), REC->comm, __get_str(name), REC -> str
    """

    func formatDamage(_ text: String) -> String? {
        Array(text.utf8).withUnsafeBytes { DatEventFormatCheck.damage(in: $0) }
    }

    @Test func formatWhoseReferencesResolve() {
        #expect(formatDamage(Self.format) == nil)
    }

    @Test(arguments: [
        ("__print_flags(REC->state", "__print_flags(REC->Xtate"),  // the libtraceevent NULL dereference
        ("REC->dev,", "REC->de,"),
        ("REC -> str", "REC->\nstrr"),
        ("field:unsigned long state;", "field:unsigned long sta.te;"),  // not the kernel's shape: not a field
        ("field:unsigned long state;", "field:state;"),                   // a name without a type
        ("field:char comm[16];", "field:char comm[1x];"),
    ])
    func formatWithAnUnresolvedReference(from: String, to: String) {
        let text = Self.format.replacingOccurrences(of: from, with: to)
        #expect(formatDamage(text) != nil, "\(from) → \(to)")
    }

    /// Array sizes as kernels write them: a number, or a constant expression
    /// stringified from a macro (5.10's `ftrace/branch`: `char func[30+1]`).
    @Test(arguments: ["16", "30+1", "TASK_COMM_LEN", "(8 * 2)", "0x10", "16UL", " 4 << 2 "])
    func arraySizeExpressionsNameTheirField(size: String) {
        let text = Self.format.replacingOccurrences(of: "field:char comm[16];", with: "field:char comm[\(size)];")
        #expect(formatDamage(text) == nil, "comm[\(size)]")
    }

    @Test(arguments: ["1x", "16;", "1[2", "\"16\"", "16,1", "08a"])
    func arraySizesNoKernelWrites(size: String) {
        let text = Self.format.replacingOccurrences(of: "field:char comm[16];", with: "field:char comm[\(size)];")
        #expect(formatDamage(text) != nil, "comm[\(size)]")
    }

    /// 7.3's mm_shrink_slab_end prints `REC->ent.pid` (a member of the common
    /// header, no field): it passes after references that consume any pending
    /// table flag, and only as a member access.
    @Test func memberOfAStructThatIsNoField() {
        // After REC->comm took the symbolic flag a format may have left pending.
        let late = Self.format.replacingOccurrences(of: "REC -> str", with: "REC -> str, REC->ent.pid")
        #expect(formatDamage(late) == nil)
        let vmscan = """
        name: mm_vmscan_node_reclaim_end
        format:
        \tfield:unsigned long nr_reclaimed;\toffset:8;\tsize:8;\tsigned:0;

        print fmt: "nr_reclaimed=%lu pid=%d", REC->nr_reclaimed, REC->ent.pid
        """
        #expect(formatDamage(vmscan) == nil)
        // The first reference of a format may meet a symbolic flag an earlier format left.
        #expect(formatDamage(vmscan.replacingOccurrences(of: "REC->nr_reclaimed, REC->ent.pid", with: "REC->ent.pid")) != nil)
        // The reference that takes __print_flags's flag must be a field.
        let early = Self.format.replacingOccurrences(of: "__print_flags(REC->state", with: "__print_flags(REC->ent.pid")
        #expect(formatDamage(early) != nil)
        for noMember in ["REC->ent", "REC->ent.", "REC->ent. 1", "REC->ent->pid"] {
            let text = Self.format.replacingOccurrences(of: "REC -> str", with: "REC -> str, \(noMember)")
            #expect(formatDamage(text) != nil, "\(noMember)")
        }
    }

    /// A `__print_flags` whose flag no field reference takes would hand it to
    /// the next format's first reference: refused.
    @Test func flagsThatReadNoField() {
        let text = Self.format.replacingOccurrences(of: "__print_flags(REC->state", with: "REC->state, __print_flags(0")
            .replacingOccurrences(of: ", REC->comm, __get_str(name), REC -> str", with: "")
        #expect(formatDamage(text)?.contains("reads no field") == true)
    }

    /// Fields after the print format (libtraceevent has stopped reading
    /// fields there) do not count.
    @Test func fieldsAfterThePrintFormatDoNotCount() {
        let text = Self.format.replacingOccurrences(of: "REC -> str", with: "REC->late\n\tfield:int late;\toffset:64;\tsize:4;")
        #expect(formatDamage(text) != nil)
    }

    /// libtraceevent 1.7 frees a token twice for these; the kernel's dma
    /// formats use `sizeof(u64)` first, which ends the parse before their
    /// `sizeof(unsigned int)`, so they pass.
    @Test(arguments: [
        ("sizeof(int)", false), ("sizeof( unsigned int )", false), ("sizeof(long long)", false),
        ("sizeof(unsigned long long)", false), ("sizeof(REC->dev)", false),
        ("sizeof(long)", true), ("sizeof(unsigned)", true), ("sizeof(u64) * sizeof(int)", true),
        ("sizeof(long) + sizeof(int)", false), ("mysizeof(int)", true),
    ])
    func sizeofForms(expression: String, passes: Bool) {
        let text = Self.format.replacingOccurrences(of: "REC -> str", with: "REC->str, \(expression)")
        #expect((formatDamage(text) == nil) == passes, "\(expression)")
    }

    /// libtraceevent 1.7 folds constant operands while parsing and reads a
    /// word that is not a number as 0: a constant zero divisor is refused,
    /// fields, functions and non-zero constants are not.
    @Test(arguments: [
        ("__print_flags/releaseund ? REC->dev : 0", false),  // the fuzz find
        ("REC->dev / 0", false), ("REC->dev % 0", false), ("REC->dev / 0x", false),
        ("REC->dev / (8 - 8)", false), ("REC->dev / (unsigned int) 0", false),
        ("REC->dev / -(1 - 1)", false), ("REC->dev / (1 ? 0 : 2)", false),
        ("REC->dev / (1 / 0)", false), ("__print_symbolic(REC->dev, { 4 % 0, \"X\" })", false),
        ("REC->dev / 512", true), ("REC->dev / (1 << 9)", true), ("REC->dev / 1UL", true),
        ("REC->dev / 0x10", true), ("REC->dev / (0 ? 0 : 2)", true), ("REC->dev / ((8 - 1))", true),
        ("REC->dev / REC->state", true), ("REC->dev / (REC->state - 1)", true),
        ("REC->dev / (unsigned int) REC->state", true), ("REC->dev / __get_str(name)", true),
        ("\"a/0%0\"", true), ("REC->dev / sizeof(u64)", true),
    ])
    func constantDivisors(expression: String, passes: Bool) {
        let text = Self.format.replacingOccurrences(of: "REC -> str", with: "REC->str, \(expression)")
        #expect((formatDamage(text) == nil) == passes, "\(expression)")
    }

    /// The values of flag and symbol tables must be constants; the rest of
    /// the print format may be any expression.
    @Test(arguments: [
        ("{ 0xm[9]; x \"A\" }", false),  // the fuzz find: an index, then no comma
        ("{ REC->dev, \"A\" }", false), ("{ \"1\", \"A\" }", false), ("{ f(1), \"A\" }", false),
        ("{ , \"A\" }", false), ("{ (1 << 2, \"A\" }", false), ("{ 1 ? 2 : 3, \"A\" }", false),
        ("{ 1, \"A\" }", true), ("{ ((((1UL))) << (5)), \"N\" }", true), ("{ IOPRIO_CLASS_RT, \"rt\" }", true),
        ("{ -1, \"A\" }, { ~0x3 & 0xff, \"B\" }", true), ("{ 0x40000000, \"EX_NOCACHE\" }", true), ("{ }", true),
    ])
    func flagTableValues(table: String, passes: Bool) {
        let text = Self.format.replacingOccurrences(of: "{1, \"A\"}", with: table)
        #expect((formatDamage(text) == nil) == passes, "\(table)")
    }

    @Test func strtoullReadsLikeC() {
        #expect(ConstantEvaluator.strtoull("42") == 42)
        #expect(ConstantEvaluator.strtoull("0x1f") == 31)
        #expect(ConstantEvaluator.strtoull("017") == 15)
        #expect(ConstantEvaluator.strtoull("1UL") == 1)
        #expect(ConstantEvaluator.strtoull("IOPRIO_CLASS_RT") == 0)
        #expect(ConstantEvaluator.strtoull("0x") == 0)
        #expect(ConstantEvaluator.strtoull("99999999999999999999999") == .max)
    }

    /// Every event format of the running kernel passes every format check:
    /// the checks refuse damage, not what a kernel writes.
    @Test(.enabled(if: KernelFormats.available, "needs a readable tracefs events directory (/sys/kernel/tracing/events)"))
    func everyFormatOfThisKernelPasses() throws {
        let formats = KernelFormats.all()
        #expect(formats.count > 100)
        for (path, text) in formats {
            let damage = Array(text.utf8).withUnsafeBytes { DatEventFormatCheck.damage(in: $0) }
            #expect(damage == nil, "\(path): \(damage ?? "")")
        }
    }

    func optionDamage(_ id: UInt64, _ data: [UInt8]) -> String? {
        do { try DatOptionCheck.check(id: id, data: data, bigEndian: false, sectioned: true) } catch { return error.reason }
        return nil
    }

    @Test func options() {
        #expect(optionDamage(5, Array("Linux 6.18\0".utf8)) == nil)
        #expect(optionDamage(5, Array("Linux 6.18".utf8)) != nil)  // uname without its NUL
        #expect(optionDamage(1, Array("0x1234".utf8)) != nil)     // date
        #expect(optionDamage(2, []) != nil)                        // CPU stats of size 0
        #expect(optionDamage(6, [0, 0, 0, 0, 0, 0, 0, 0])?.contains("hook") == true)
        #expect(optionDamage(8, [2, 0, 0, 0]) == nil)
        #expect(optionDamage(8, [2, 0]) != nil)
        // A guest whose name fills the option.
        #expect(optionDamage(13, Array("guest".utf8)) != nil)
        #expect(optionDamage(13, Array("vm\0".utf8) + [UInt8](repeating: 0, count: 8) + [1, 0, 0, 0] + [0, 0, 0, 0, 9, 0, 0, 0]) == nil)
        #expect(optionDamage(13, Array("vm\0".utf8) + [UInt8](repeating: 0, count: 8) + [9, 0, 0, 0]) != nil)
        // A buffer listing CPU 1 000 000.
        var buffer = [UInt8](repeating: 0, count: 8) + Array("cap\0local\0".utf8) + [0, 16, 0, 0, 1, 0, 0, 0]
        buffer += [0x40, 0x42, 0x0f, 0x00] + [UInt8](repeating: 0, count: 16)
        #expect(optionDamage(3, buffer)?.contains("CPU 1000000") == true)
        // The fuzz find: a clock that runs to the end of the option.
        #expect(optionDamage(3, [UInt8](repeating: 0, count: 8) + Array("cap\0local".utf8))?.contains("clock") == true)
    }

    @Test func printkFormats() throws {
        func damage(_ text: String) -> String? {
            let bytes = [UInt8(text.utf8.count), 0, 0, 0] + Array(text.utf8)
            do { try DatFormatSections.checkPrintk(DatByteSource(bytes: bytes, bigEndian: false), at: 0) } catch {
                return error.reason
            }
            return nil
        }
        #expect(damage("ffffffff81000000 : \"hello\"\nffffffff81000010 : \"x\"\n") == nil)
        #expect(damage("ffffffff81000000 : \"hello\"\n\u{15}\n") != nil)
        #expect(damage("ffffffff81000000:\n") != nil)
        #expect(damage("::::\nno colon\n") == nil)  // the parse ends at the line of ':'s
    }

    // MARK: - Pages

    /// A 4096-byte page: timestamp, commit word, then `records` (32-bit words).
    func page(commit: UInt64, words: [UInt32]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 4096)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt64(1000).littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: commit.littleEndian, toByteOffset: 8, as: UInt64.self)
            for (i, word) in words.enumerated() {
                raw.storeBytes(of: word.littleEndian, toByteOffset: 16 + 4 * i, as: UInt32.self)
            }
        }
        return bytes
    }

    func pageDamage(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { DatRingBufferPage.damage(in: $0, layout: DatHeaderPage(commitSize: 8), bigEndian: false) }
    }

    /// Two data records of 2 words (type_len 2), a time extend, a long record
    /// (type_len 0, length word 12: 8 bytes of data), then padding to the end.
    static let wellFormed: [UInt32] = [2 | 5 << 5, 7, 8, 2 | 1 << 5, 7, 8, 30, 1, 0, 12, 7, 8, 29 | 1 << 5, 4080 - 52]

    @Test func wellFormedPage() {
        #expect(pageDamage(page(commit: 4080, words: Self.wellFormed)) == nil)
        #expect(pageDamage(page(commit: 52, words: Self.wellFormed)) == nil)
        // Lost events stored after the events, inside the page.
        #expect(pageDamage(page(commit: 52 | 3 << 30, words: Self.wellFormed)) == nil)
        #expect(pageDamage(page(commit: 0, words: [])) == nil)
    }

    @Test func commitPastThePage() {
        #expect(pageDamage(page(commit: 4081, words: Self.wellFormed))?.contains("room for 4080") == true)
        // The fuzz find: flags say the count is stored after 128 MB of events.
        #expect(pageDamage(page(commit: (1 << 27) - 1 | 3 << 30, words: Self.wellFormed)) != nil)
        // Lost-events count cut off by the page's end.
        #expect(pageDamage(page(commit: 4076 | 3 << 30, words: Self.wellFormed))?.contains("lost-events") == true)
    }

    /// A padding whose length wraps the 32-bit position back to itself:
    /// kbuffer would walk it forever.
    @Test func paddingThatLoops() {
        let words: [UInt32] = [2, 7, 8, 29, UInt32.max - 3]
        #expect(pageDamage(page(commit: 64, words: words))?.contains("circle") == true)
    }

    /// A long record claiming 4 GB: kbuffer's int arithmetic sends it back
    /// a few bytes and the walk goes on; not refused (the reader counts the
    /// records it makes of it as damaged).
    @Test func recordThatGoesBackButLeaves() {
        // A: type_len 3 at 0; B: type_len 0 at 16 whose length word sends the
        // walk to byte 4 (inside A), read as a type_len-5 header, then to 28.
        let words: [UInt32] = [3, 5, 0, 0, 0, 0xFFFF_FFF0, 0, 1, 0]
        #expect(pageDamage(page(commit: 36, words: words)) == nil)
    }

    /// Records whose header or length word kbuffer would read past the page.
    @Test func headerPastThePage() {
        var words = [UInt32](repeating: 0, count: 1020)
        for i in 0..<1019 { words[i] = 0 }
        words[0] = 29
        words[1] = 4076 - 4  // padding up to the last 4 bytes of the page
        words[1019] = 0      // a long record whose length word lies past the page
        #expect(pageDamage(page(commit: 4080, words: words)) != nil)
    }
}

/// The running kernel's event formats, read from tracefs.
enum KernelFormats {
    static let root = ["/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"]
        .first { FileManager.default.isReadableFile(atPath: $0 + "/header_page") }

    static var available: Bool { root != nil }

    /// (path, text) of every events/SYSTEM/EVENT/format.
    static func all() -> [(String, String)] {
        guard let root, let systems = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        var formats: [(String, String)] = []
        for system in systems.sorted() {
            guard let events = try? FileManager.default.contentsOfDirectory(atPath: root + "/" + system) else { continue }
            for event in events.sorted() {
                let path = "\(root)/\(system)/\(event)/format"
                if let text = try? String(contentsOfFile: path, encoding: .utf8) { formats.append((path, text)) }
            }
        }
        return formats
    }
}
