/// Turns one scanned event line into a `TraceEvent`: names normalised,
/// fields decoded by the event's spec (or the syscall / print decoders),
/// strings shared across lines.
struct TextEventDecoder {
    let options: ReadOptions
    private var naming = EventNaming()
    private var comms = ByteInterner<String>(capacity: 8192)
    private var fieldNames = ByteInterner<String>(capacity: 4096)
    private var matcher = SpecMatcher()
    /// Per spec (by identity), which of its fields `options.fields` asks for;
    /// empty when all are.
    private let wanted: [ObjectIdentifier: [Bool]]
    /// Lines of events with a spec whose text did not have the spec's shape
    /// (a different kernel's print format, a damaged line); their fields
    /// fall back to `GenericFields`.
    private(set) var specMismatches = 0

    init(options: ReadOptions, libtraceeventQuirks: Bool) {
        self.options = options
        matcher.libtraceeventQuirks = libtraceeventQuirks
        switch options.fields {
        case .all, .none:
            wanted = [:]
        case .named, .perEvent:
            var wanted: [ObjectIdentifier: [Bool]] = [:]
            for spec in EventSpecCatalog.all {
                let selection = options.fields.forEvent(spec.event)
                wanted[ObjectIdentifier(spec)] = spec.fieldNames.map { selection.includes($0) }
            }
            self.wanted = wanted
        }
    }

    /// Per descriptor (by its number): `options.fields` resolved for its event.
    private var selections = FormatCache<FieldSelection>()

    private mutating func selection(for descriptor: EventDescriptor) -> FieldSelection {
        if let known = selections.value(formatID: descriptor.id, name: descriptor.name) { return known }
        let resolved = options.fields.forEvent(descriptor.name)
        selections.store(resolved, formatID: descriptor.id, name: descriptor.name)
        return resolved
    }

    /// The kernels the lines read so far could come from (`EventSpec.kernels`
    /// bits): a line that only some kernels print narrows them.
    private var kernels: UInt64 = ~0

    /// The fields of an event's text by one of its print formats (newest
    /// kernel first): the first that matches with a name for every flag and
    /// that a kernel still possible prints, else the first that matches with
    /// every name, else the first that matches at all. Kernels print some
    /// events alike with different types or flag values (5.10's
    /// writeback_mark_inode_dirty names I_DIRTY_PAGES 4, 6.18's 64; 7.3's
    /// ext4_ext_map_blocks_enter has no PRE_IO), so the other lines of the
    /// file decide.
    private mutating func match(_ body: UnsafeBufferPointer<UInt8>, _ specs: [EventSpec]) -> EventFields? {
        if specs.count == 1 {
            return matcher.match(body, specs[0], wanted: wanted.isEmpty ? nil : wanted[ObjectIdentifier(specs[0])])
        }
        var partial: EventFields?
        var complete: EventFields?
        var possible: EventFields?
        var printedBy: UInt64 = 0
        for spec in specs {
            if possible != nil, printedBy & kernels != 0, spec.kernels & kernels == 0 { continue }
            guard let matched = matcher.match(body, spec, wanted: wanted.isEmpty ? nil : wanted[ObjectIdentifier(spec)])
            else { continue }
            if matcher.lastMatchMissedNames {
                if partial == nil { partial = matched }
                continue
            }
            printedBy |= spec.kernels
            if complete == nil { complete = matched }
            if possible == nil, spec.kernels & kernels != 0 { possible = matched }
        }
        if printedBy & kernels != 0 { kernels &= printedBy }
        return possible ?? complete ?? partial
    }

    /// The event of a scanned line, as a record (built in place: a
    /// `TraceEvent` copied into a record costs a reference count per member).
    mutating func decode(_ line: UnsafeBufferPointer<UInt8>, _ event: EventLine) -> TraceRecord? {
        guard let head = naming.head(line, from: event.eventStart) else { return nil }
        let body = UnsafeBufferPointer(rebasing: line[head.body])
        let descriptor = head.descriptor
        var fields = EventFields()
        let selection = self.selection(for: descriptor)
        if case .none = selection {} else {
            switch descriptor.shape {
            case .plain:
                if !descriptor.specs.isEmpty {
                    if let matched = match(body, descriptor.specs) {
                        fields = matched
                    } else {
                        specMismatches += 1
                        fields = GenericFields.parse(body, names: &fieldNames, wanted: selection)
                    }
                } else {
                    fields = GenericFields.parse(body, names: &fieldNames, wanted: selection)
                }
            case .syscallEnter:
                fields = SyscallFields.enter(body, names: &fieldNames, wanted: selection)
            case .syscallExit:
                fields = SyscallFields.exit(body, wanted: selection)
            case .print, .tracefsPrint:
                fields = PrintFields.fields(body, shape: descriptor.shape, wanted: selection)
            }
        }
        var raw: String?
        if options.keepRawText {
            var end = body.count
            while end > 0, body[end - 1] == 0x20 { end -= 1 }
            raw = String(decoding: UnsafeBufferPointer(rebasing: body[0..<end]), as: UTF8.self)
        }
        return .event(TraceEvent(
            timestamp: event.timestamp, cpu: event.cpu, pid: event.pid,
            comm: comms.string(UnsafeBufferPointer(rebasing: line[event.comm])),
            name: descriptor.name, system: descriptor.system, fields: fields, rawText: raw,
            timestampResolution: event.resolution, formatID: descriptor.id))
    }
}
