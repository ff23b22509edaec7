/// The subset of Python literal syntax that `.npy` headers use:
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
///
/// Strings (single or double quoted, simple backslash escapes), integers
/// (with Python 2's optional `L`), `True`, `False`, `None`, tuples, lists
/// and dictionaries with string keys; trailing commas and whitespace are
/// allowed wherever Python allows them. Nothing is ever evaluated.
enum PythonLiteral: Equatable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dictionary([String: PythonLiteral])

    /// Parses one literal that spans all of `text` (surrounding whitespace allowed).
    /// The error is a short human description with the byte offset.
    static func parse(_ text: String) throws(ParseError) -> PythonLiteral {
        var parser = Parser(bytes: Array(text.utf8))
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        if parser.position < parser.bytes.count {
            throw parser.error("unexpected text after the literal")
        }
        return value
    }

    struct ParseError: Error, Equatable {
        var message: String
    }

    /// Python's `repr`, for messages.
    var repr: String {
        switch self {
        case .string(let s): return "'\(s)'"
        case .integer(let i): return String(i)
        case .boolean(let b): return b ? "True" : "False"
        case .none: return "None"
        case .tuple(let items):
            return "(" + items.map(\.repr).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .list(let items): return "[" + items.map(\.repr).joined(separator: ", ") + "]"
        case .dictionary(let entries):
            return "{" + entries.keys.sorted().map { "'\($0)': \(entries[$0]!.repr)" }.joined(separator: ", ") + "}"
        }
    }
}

private struct Parser {
    let bytes: [UInt8]
    var position = 0

    /// Nesting deeper than this is not a NumPy header; refusing it keeps a
    /// hostile header from exhausting the stack.
    static let maximumDepth = 32

    func error(_ message: String) -> PythonLiteral.ParseError {
        PythonLiteral.ParseError(message: "\(message) at offset \(position)")
    }

    mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    /// Skips whitespace and returns the next byte without consuming it.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    mutating func value(depth: Int) throws(PythonLiteral.ParseError) -> PythonLiteral {
        guard depth < Parser.maximumDepth else { throw error("nesting too deep") }
        guard let byte = peek() else { throw error("unexpected end of header") }
        switch byte {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "("):
            return .tuple(try sequence(closing: UInt8(ascii: ")"), depth: depth))
        case UInt8(ascii: "["):
            return .list(try sequence(closing: UInt8(ascii: "]"), depth: depth))
        case UInt8(ascii: "{"):
            return try dictionary(depth: depth)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .integer(try integer())
        default:
            for (word, literal) in [("True", PythonLiteral.boolean(true)), ("False", .boolean(false)), ("None", .none)]
            where bytes[position...].starts(with: word.utf8) {
                position += word.utf8.count
                return literal
            }
            throw error("unexpected character '\(Character(Unicode.Scalar(byte)))'")
        }
    }

    mutating func string() throws(PythonLiteral.ParseError) -> String {
        let quote = bytes[position]
        position += 1
        var content: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if byte == quote { return String(decoding: content, as: UTF8.self) }
            if byte == UInt8(ascii: "\\") {
                guard position < bytes.count else { break }
                let escaped = bytes[position]
                position += 1
                switch escaped {
                case UInt8(ascii: "n"): content.append(0x0A)
                case UInt8(ascii: "t"): content.append(0x09)
                default: content.append(escaped)
                }
            } else {
                content.append(byte)
            }
        }
        throw error("unterminated string")
    }

    mutating func integer() throws(PythonLiteral.ParseError) -> Int {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        let digitsStart = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            position += 1
        }
        guard position > digitsStart, let value = Int(String(decoding: bytes[start..<position], as: UTF8.self)) else {
            position = start
            throw error("invalid or too large integer")
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "L") || bytes[position] == UInt8(ascii: "l") {
            position += 1
        }
        return value
    }

    /// Items up to `closing`, separated by commas, a trailing comma allowed.
    mutating func sequence(closing: UInt8, depth: Int) throws(PythonLiteral.ParseError) -> [PythonLiteral] {
        position += 1
        var items: [PythonLiteral] = []
        while true {
            if peek() == closing { position += 1; return items }
            items.append(try value(depth: depth + 1))
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case closing: position += 1; return items
            default: throw error("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
            }
        }
    }

    mutating func dictionary(depth: Int) throws(PythonLiteral.ParseError) -> PythonLiteral {
        position += 1
        var entries: [String: PythonLiteral] = [:]
        while true {
            if peek() == UInt8(ascii: "}") { position += 1; return .dictionary(entries) }
            guard case .string(let key) = try value(depth: depth + 1) else {
                throw error("dictionary keys must be strings")
            }
            guard peek() == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            guard entries[key] == nil else { throw error("duplicate key '\(key)'") }
            entries[key] = try value(depth: depth + 1)
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .dictionary(entries)
            default: throw error("expected ',' or '}'")
            }
        }
    }
}
