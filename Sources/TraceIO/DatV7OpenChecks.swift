import Dispatch

extension DatV7Chunks {
    /// Checks the header_page, the formats, the printk formats, kallsyms and
    /// command lines, and each CPU stream's extent and first chunk
    /// (`checkCPU`); returns the page layout and, per CPU of `layout.cpus`,
    /// what `checkCPU` found.
    ///
    /// All but the header_page are checked on all cores at once — the event
    /// formats in slices, the sections, each CPU stream: they are
    /// independent, and all of them must pass before libtracecmd may open
    /// the file. The answer is a single thread's: the first damage in the
    /// order header_page, ftrace and event formats, printk formats, kallsyms,
    /// command lines, CPU streams.
    func checkFormatsAndFirstChunks(
        _ layout: Layout
    ) throws -> (DatHeaderPage, [(DatV7LaterPages.Stream?, DatStreamLayout.Stream?)]) {
        guard !layout.headerInfo.isEmpty else { throw DatDamage("it has no header_page format") }
        var pages: DatHeaderPage?
        for offset in layout.headerInfo {
            let (found, _) = try DatFormatSections.headerPage(section(at: offset), at: 0)
            guard pages == nil || pages == found else { throw DatDamage("its header_page formats disagree") }
            pages = found
        }
        let page = pages!
        // Gathered in file order; a section that cannot be read ends the
        // list, and its error comes after the damage of any format before it.
        var formats = DatFormatTexts()
        var unreadable: (any Error)?
        let sections = layout.ftraceFormats.map { ($0, true) } + layout.eventFormats.map { ($0, false) }
        for (offset, ftrace) in sections {
            do {
                let source = try section(at: offset)
                formats.append(ftrace ? DatFormatSections.ftraceFormats(source, at: 0)
                                      : DatFormatSections.eventFormats(source, at: 0))
            } catch {
                unreadable = error
                break
            }
        }

        let texts = formats
        // Run longest first (kallsyms decompress a few MB, then each CPU's
        // first chunk); answered below in the single thread's order.
        var jobs: [Job] = layout.kallsyms.map { .kallsyms($0) }
        jobs += layout.cpus.indices.map { .cpu($0) }
        jobs += layout.printkFormats.map { .printk($0) }
        jobs += layout.commandLines.map { .commandLines($0) }
        jobs += texts.slices(Self.formatSlices).map { .formats($0) }
        let cpus = layout.cpus
        let done = jobs
        let results: [JobResult] = Self.concurrently(done.count) { k in
            switch done[k] {
            case .cpu(let i):
                return .cpu(Result { try checkCPU(cpus[i], pages: page) })
            case .formats(let range):
                return .formats(texts.firstDamage(in: range))
            case .printk(let offset):
                return .section(Result { try DatFormatSections.checkPrintk(section(at: offset), at: 0) })
            case .kallsyms(let offset):
                return .section(Result {
                    try DatFormatSections.checkSizedText(section(at: offset), at: 0, width: 4, what: "kallsyms")
                })
            case .commandLines(let offset):
                return .section(Result {
                    try DatFormatSections.checkSizedText(section(at: offset), at: 0, width: 8, what: "command lines")
                })
            }
        }

        let answered = zip(jobs, results)
        for case (.formats, .formats(let damage?)) in answered { throw damage }
        if let unreadable { throw unreadable }
        for case (.printk, .section(let result)) in answered { try result.get() }
        for case (.kallsyms, .section(let result)) in answered { try result.get() }
        for case (.commandLines, .section(let result)) in answered { try result.get() }
        var checked: [(DatV7LaterPages.Stream?, DatStreamLayout.Stream?)] = []
        for case .cpu(let result) in results { checked.append(try result.get()) }
        return (page, checked)
    }

    /// Slices of the formats: small enough that the cores finish together.
    private static let formatSlices = 16

    private enum Job {
        case cpu(Int)
        case formats(Range<Int>)
        case printk(UInt64)
        case kallsyms(UInt64)
        case commandLines(UInt64)
    }

    private enum JobResult {
        case cpu(Result<(DatV7LaterPages.Stream?, DatStreamLayout.Stream?), any Error>)
        case formats(DatDamage?)
        case section(Result<Void, any Error>)
    }

    /// `job(0..<count)` on all cores; the results in job order.
    private static func concurrently<T>(_ count: Int, _ job: @Sendable (Int) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Each job writes its own slot, once.
            let slots = Slots(base: buffer.baseAddress)
            DispatchQueue.concurrentPerform(iterations: count) { i in (slots.base! + i).initialize(to: job(i)) }
            initialized = count
        }
    }

    private struct Slots<T>: @unchecked Sendable { let base: UnsafeMutablePointer<T>? }
}
