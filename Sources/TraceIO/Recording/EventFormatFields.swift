/// The fields an event declares in its tracefs `format` file, which decide
/// what a device filter can compare (`dev_t dev`, `char name[32]`, …).
public struct EventFormatFields: Sendable, Equatable {
    public struct Field: Sendable, Equatable {
        /// The C type as declared, without the array suffix (`dev_t`, `char`).
        public var type: String
        public var name: String
        public var isArray: Bool
    }

    /// Event-specific fields; the `common_*` header fields are left out.
    public var fields: [Field]

    /// Parses lines such as `\tfield:dev_t dev;\toffset:8;\tsize:4;\tsigned:0;`.
    public init(formatText: String) {
        var fields: [Field] = []
        for line in formatText.split(separator: "\n") {
            guard let start = line.range(of: "field:"),
                  let end = line[start.upperBound...].firstIndex(of: ";") else { continue }
            var decl = trimmed(line[start.upperBound..<end])
            // `char rwbs[10]` and `__data_loc char[] cmd`: drop every `[…]`.
            var isArray = false
            while let open = decl.firstIndex(of: "["), let close = decl[open...].firstIndex(of: "]") {
                decl.removeSubrange(open...close)
                isArray = true
            }
            decl = trimmed(decl)
            guard let split = decl.lastIndex(where: { $0 == " " || $0 == "*" }) else { continue }
            let name = String(decl[decl.index(after: split)...])
            let type = trimmed(decl[...split])
            if name.hasPrefix("common_") || name.isEmpty { continue }
            fields.append(Field(type: type, name: name, isArray: isArray))
        }
        self.fields = fields
    }

    public func field(_ name: String) -> Field? { fields.first { $0.name == name } }
}

/// `text` without leading and trailing blanks (format files indent with tabs).
private func trimmed(_ text: some StringProtocol) -> String {
    let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = text.firstIndex(where: { !isBlank($0) }),
          let last = text.lastIndex(where: { !isBlank($0) }) else { return "" }
    return String(text[first...last])
}
