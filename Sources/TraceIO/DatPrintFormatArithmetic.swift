/// Refuses an event's print format that divides by a constant zero.
///
/// Why: libtraceevent 1.7 folds an operator whose two operands are atoms
/// while it parses the print format (`consolidate_op_arg`, called for every
/// argument and every `__print_flags`/`__print_symbolic` value), and reads
/// each atom with `strtoull`, so a word that is not a number is 0:
/// `__print_flags/releaseund` divides by zero (SIGFPE in `tep_parse_event`,
/// FuzzDatReader's find after 230 389 executions; `trace-cmd report` dies on
/// it too). When printing a record it evaluates `REC->x / 0` the same way
/// (`eval_num_arg`). No kernel's format divides by a constant zero, so one
/// that does is damage.
///
/// What counts as a divisor mirrors libtraceevent's parser: the operand after
/// `/` or `%` — a word (`strtoull` of it, so any non-number is 0), a
/// parenthesised expression of constants, or a cast `(type) operand`, with
/// unary `- + ! ~` in front. A field (`REC->x`; only `REC` begins one), a function call or anything
/// else the check cannot evaluate is not judged: only constants can be
/// folded, and a field's value is the record's business.
enum DatPrintFormatArithmetic {
    /// Nil when no `/` or `%` among a print format's tokens has a constant
    /// zero divisor, else why it is refused.
    static func damage(in tokens: [PrintFormatToken]) -> String? {
        var evaluator = ConstantEvaluator(tokens: tokens)
        for index in tokens.indices where tokens[index].isOperator("/") || tokens[index].isOperator("%") {
            evaluator.position = index + 1
            if evaluator.operand() == 0 || evaluator.dividesByZero {
                return "its print format divides by zero, which libtraceevent 1.7 evaluates while parsing it"
            }
        }
        return nil
    }
}

/// One token of a print format, as libtraceevent's tokenizer splits it.
struct PrintFormatToken: Equatable {
    enum Kind { case word, string, operatorSign, delimiter }
    var kind: Kind
    var text: String

    func isOperator(_ sign: String) -> Bool { kind == .operatorSign && text == sign }
    func isDelimiter(_ sign: String) -> Bool { kind == .delimiter && text == sign }
}

/// libtraceevent's tokens: words (letters, digits, `_`), quoted strings and
/// characters, the two-character operators it knows, single-character
/// operators, and the delimiters `( ) , { } [ ] ;`.
struct PrintFormatTokens {
    private(set) var all: [PrintFormatToken] = []

    init(_ text: UnsafeRawBufferPointer, from start: Int) {
        var p = start
        let twoCharacter: Set<String> = ["->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||"]
        while p < text.count {
            let byte = text[p]
            if byte <= 0x20 || byte == 0x7f {
                p += 1
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                var q = p + 1
                while q < text.count, text[q] != byte {
                    q += text[q] == UInt8(ascii: "\\") ? 2 : 1
                }
                all.append(PrintFormatToken(kind: .string, text: ""))
                p = q + 1
            } else if DatHeaderPage.isWordByte(byte) {
                let wordStart = p
                while p < text.count, DatHeaderPage.isWordByte(text[p]) { p += 1 }
                all.append(PrintFormatToken(kind: .word, text: String(decoding: UnsafeRawBufferPointer(rebasing: text[wordStart..<p]), as: UTF8.self)))
            } else if "(),{}[];".utf8.contains(byte) {
                all.append(PrintFormatToken(kind: .delimiter, text: String(UnicodeScalar(byte))))
                p += 1
            } else {
                var sign = String(UnicodeScalar(byte))
                if p + 1 < text.count, twoCharacter.contains(sign + String(UnicodeScalar(text[p + 1]))) {
                    sign += String(UnicodeScalar(text[p + 1]))
                }
                all.append(PrintFormatToken(kind: .operatorSign, text: sign))
                p += sign.utf8.count
            }
        }
    }
}

/// Evaluates the constant operands of a print format with C's precedence and
/// 64-bit unsigned wrap-around (libtraceevent's `unsigned long long`); nil is
/// "not a constant".
struct ConstantEvaluator {
    let tokens: [PrintFormatToken]
    var position = 0
    /// Set when a constant expression on the way divided by zero.
    private(set) var dividesByZero = false

    init(tokens: [PrintFormatToken]) { self.tokens = tokens }

    private var current: PrintFormatToken? { position < tokens.count ? tokens[position] : nil }

    /// One operand at `position`: unary signs, then a word, a parenthesised
    /// expression or a cast.
    mutating func operand() -> UInt64? {
        guard let token = current else { return nil }
        switch token.kind {
        case .operatorSign where ["-", "+", "!", "~"].contains(token.text):
            position += 1
            guard let value = operand() else { return nil }
            switch token.text {
            case "-": return 0 &- value
            case "!": return value == 0 ? 1 : 0
            case "~": return ~value
            default: return value
            }
        case .word:
            position += 1
            // A field, or a function such as __print_flags(…) or sizeof(…).
            // Only `REC` begins a field: libtraceevent reads any other word
            // before `->` as an atom (`EC->lblk` divides by strtoull("EC"), 0).
            if token.text == "REC" || current?.isDelimiter("(") == true {
                return nil
            }
            // Words in a row are one atom ("unsigned int"); strtoull reads the first.
            while current?.kind == .word { position += 1 }
            return Self.strtoull(token.text)
        case .delimiter where token.text == "(":
            let open = position
            guard let close = matchingParenthesis(from: open) else { return nil }
            let contents = tokens[(open + 1)..<close]
            let castsType = !contents.isEmpty && contents.allSatisfy { $0.kind == .word }
            position = close + 1
            if castsType, let next = current, next.kind == .word || next.isDelimiter("(") {
                return operand()
            }
            var inner = ConstantEvaluator(tokens: Array(contents))
            let value = inner.expression(minimumPrecedence: 0)
            dividesByZero = dividesByZero || inner.dividesByZero
            return inner.position == inner.tokens.count ? value : nil
        default:
            return nil
        }
    }

    /// A whole expression from `position`, binary operators of at least
    /// `minimumPrecedence` (precedence climbing).
    mutating func expression(minimumPrecedence: Int) -> UInt64? {
        var left = operand()
        while let token = current, token.kind == .operatorSign,
              let precedence = Self.precedence[token.text], precedence >= minimumPrecedence {
            position += 1
            if token.text == "?" {
                let whenTrue = expression(minimumPrecedence: 0)
                guard current?.isOperator(":") == true else { return nil }
                position += 1
                let whenFalse = expression(minimumPrecedence: precedence)
                guard let condition = left else { return nil }
                left = condition != 0 ? whenTrue : whenFalse
                continue
            }
            let right = expression(minimumPrecedence: precedence + 1)
            guard let l = left, let r = right else { left = nil; continue }
            left = apply(token.text, l, r)
        }
        return left
    }

    private mutating func apply(_ sign: String, _ l: UInt64, _ r: UInt64) -> UInt64? {
        switch sign {
        case "*": return l &* r
        case "/", "%":
            guard r != 0 else { dividesByZero = true; return nil }
            return sign == "/" ? l / r : l % r
        case "+": return l &+ r
        case "-": return l &- r
        case "<<": return l << (r & 63)
        case ">>": return l >> (r & 63)
        case "<": return l < r ? 1 : 0
        case "<=": return l <= r ? 1 : 0
        case ">": return l > r ? 1 : 0
        case ">=": return l >= r ? 1 : 0
        case "==": return l == r ? 1 : 0
        case "!=": return l != r ? 1 : 0
        case "&": return l & r
        case "^": return l ^ r
        case "|": return l | r
        case "&&": return l != 0 && r != 0 ? 1 : 0
        case "||": return l != 0 || r != 0 ? 1 : 0
        default: return nil
        }
    }

    private static let precedence: [String: Int] = [
        "*": 13, "/": 13, "%": 13, "+": 12, "-": 12, "<<": 11, ">>": 11,
        "<": 10, "<=": 10, ">": 10, ">=": 10, "==": 9, "!=": 9,
        "&": 8, "^": 7, "|": 6, "&&": 5, "||": 4, "?": 3,
    ]

    private func matchingParenthesis(from open: Int) -> Int? {
        var depth = 0
        for index in open..<tokens.count {
            if tokens[index].isDelimiter("(") { depth += 1 }
            if tokens[index].isDelimiter(")") {
                depth -= 1
                if depth == 0 { return index }
            }
        }
        return nil
    }

    /// C's `strtoull(text, NULL, 0)`: a decimal, 0x hexadecimal or 0 octal
    /// prefix, stopping at the first byte that is not a digit; 0 when there
    /// is none; the largest value on overflow.
    static func strtoull(_ text: String) -> UInt64 {
        var bytes = Substring(text).utf8[...]
        var radix: UInt64 = 10
        if bytes.starts(with: "0x".utf8) || bytes.starts(with: "0X".utf8),
           bytes.count > 2, hexDigit(bytes[bytes.index(bytes.startIndex, offsetBy: 2)]) != nil {
            radix = 16
            bytes = bytes.dropFirst(2)
        } else if bytes.first == UInt8(ascii: "0") {
            radix = 8
        }
        var value: UInt64 = 0
        for byte in bytes {
            guard let digit = hexDigit(byte), digit < radix else { break }
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: radix)
            let (sum, overflowB) = shifted.addingReportingOverflow(digit)
            if overflowA || overflowB { return .max }
            value = sum
        }
        return value
    }

    private static func hexDigit(_ byte: UInt8) -> UInt64? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt64(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt64(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt64(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
