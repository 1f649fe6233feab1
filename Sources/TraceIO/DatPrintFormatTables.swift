/// Refuses a `__print_flags` / `__print_symbolic` table whose values are not
/// constant expressions.
///
/// Why: libtraceevent 1.7 evaluates each `{ value, "name" }` entry while it
/// parses the print format (`process_fields`, `arg_eval`); an entry whose
/// value indexes an array (`{ 0xm[9]; … }`, FuzzDatReader's find after
/// 379 059 executions) and is not followed by its comma makes the parser's
/// error path dereference NULL (SIGSEGV in `tep_parse_event`; `trace-cmd
/// report` dies on it too). A kernel's tables hold numbers, enum names the
/// kernel did not replace, and arithmetic on them (`((1UL)) << (5)`), so a
/// value with anything else — an index, a field, a string, a call, a
/// statement — is damage. An empty table (`{ }`) is the kernel's own. Only the tables are judged: other arguments may
/// legitimately hold any C expression.
enum DatPrintFormatTables {
    static let tableFunctions: Set<String> = ["__print_flags", "__print_symbolic", "__print_flags_u64", "__print_symbolic_u64"]
    /// What a table value may use besides words and parentheses.
    static let constantOperators: Set<String> = [
        "+", "-", "*", "/", "%", "<<", ">>", "<", "<=", ">", ">=", "==", "!=", "&", "|", "^", "&&", "||", "!", "~",
    ]

    /// Nil when every table in a print format's tokens has constant
    /// values, else why it is refused.
    static func damage(in tokens: [PrintFormatToken]) -> String? {
        var index = 0
        while index < tokens.count {
            defer { index += 1 }
            guard tokens[index].kind == .word, tableFunctions.contains(tokens[index].text),
                  index + 1 < tokens.count, tokens[index + 1].isDelimiter("(") else { continue }
            // The call's own arguments: depth 1 inside its parentheses.
            var depth = 0
            var position = index + 1
            while position < tokens.count {
                let token = tokens[position]
                if token.isDelimiter("(") || token.isDelimiter("[") { depth += 1 }
                if token.isDelimiter(")") || token.isDelimiter("]") { depth -= 1 }
                if depth == 0 { break }
                if depth == 1, token.isDelimiter("{"), !isConstantValue(tokens, from: position + 1) {
                    return "a \(tokens[index].text) table of its print format has a value that is not a constant"
                }
                position += 1
            }
            index = position
        }
        return nil
    }

    /// Whether the tokens from `start` up to the entry's comma are a
    /// non-empty constant expression with balanced parentheses, or the
    /// entry is empty (`{ }`: 6.x kvm_inj_exception has one).
    private static func isConstantValue(_ tokens: [PrintFormatToken], from start: Int) -> Bool {
        if start < tokens.count, tokens[start].isDelimiter("}") { return true }
        var depth = 0
        var position = start
        while position < tokens.count {
            let token = tokens[position]
            switch token.kind {
            case .word:
                // A word before "(" is a call, not a constant.
                if position + 1 < tokens.count, tokens[position + 1].isDelimiter("(") { return false }
            case .operatorSign:
                guard constantOperators.contains(token.text) else { return false }
            case .delimiter where token.text == "(":
                depth += 1
            case .delimiter where token.text == ")":
                depth -= 1
                guard depth >= 0 else { return false }
            case .delimiter where token.text == ",":
                return depth == 0 && position > start
            default:
                return false
            }
            position += 1
        }
        return false
    }
}
