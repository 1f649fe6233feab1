/// Turns one scanned event line into a `TraceEvent`: names normalised,
/// fields decoded by the event's spec (or the syscall / print decoders),
/// strings shared across lines.
struct TextEventDecoder {
    let options: ReadOptions
    private var naming = EventNaming()
    private var comms = ByteInterner<String>(capacity: 8192)
    private var fieldNames = ByteInterner<String>(capacity: 4096)
    private var matcher = SpecMatcher()
    /// Per spec, which of its fields `options.fields` asks for (nil: all).
    private let wanted: [[Bool]?]
    /// Lines of events with a spec whose text did not have the spec's shape
    /// (a different kernel's print format, a damaged line); their fields
    /// fall back to `GenericFields`.
    private(set) var specMismatches = 0

    init(options: ReadOptions, libtraceeventQuirks: Bool) {
        self.options = options
        matcher.libtraceeventQuirks = libtraceeventQuirks
        switch options.fields {
        case .all, .none:
            wanted = []
        case .named(let names):
            wanted = EventSpecCatalog.all.map { spec in spec.fieldNames.map { names.contains($0) } }
        }
    }

    mutating func decode(_ line: UnsafeBufferPointer<UInt8>, _ event: EventLine) -> TraceEvent? {
        guard let head = naming.head(line, from: event.eventStart) else { return nil }
        let body = UnsafeBufferPointer(rebasing: line[head.body])
        let descriptor = head.descriptor
        var fields = EventFields()
        if case .none = options.fields {} else {
            switch descriptor.shape {
            case .plain:
                if let index = descriptor.spec {
                    let spec = EventSpecCatalog.all[index]
                    if let matched = matcher.match(body, spec, wanted: wanted.isEmpty ? nil : wanted[index]) {
                        fields = matched
                    } else {
                        specMismatches += 1
                        fields = GenericFields.parse(body, names: &fieldNames, wanted: options.fields)
                    }
                } else {
                    fields = GenericFields.parse(body, names: &fieldNames, wanted: options.fields)
                }
            case .syscallEnter:
                fields = SyscallFields.enter(body, names: &fieldNames, wanted: options.fields)
            case .syscallExit:
                fields = SyscallFields.exit(body, wanted: options.fields)
            case .print, .tracefsPrint:
                fields = PrintFields.fields(body, shape: descriptor.shape, wanted: options.fields)
            }
        }
        var raw: String?
        if options.keepRawText {
            var end = body.count
            while end > 0, body[end - 1] == 0x20 { end -= 1 }
            raw = String(decoding: UnsafeBufferPointer(rebasing: body[0..<end]), as: UTF8.self)
        }
        return TraceEvent(
            timestamp: event.timestamp, cpu: event.cpu, pid: event.pid,
            comm: comms.string(UnsafeBufferPointer(rebasing: line[event.comm])),
            name: descriptor.name, system: descriptor.system, fields: fields, rawText: raw,
            timestampResolution: event.resolution)
    }
}
