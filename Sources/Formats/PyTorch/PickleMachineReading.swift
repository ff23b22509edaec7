import Foundation

/// Bounds-checked reads of a pickle's operands, for `PickleMachine`.
extension PickleMachine {
    func malformed(_ reason: String) -> FormatError {
        .malformedPickle(path: path, reason: reason)
    }

    mutating func read(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= bytes.count - position else {
            throw FormatError.truncated(path: path, reason: "pickle needs \(count) bytes at offset \(position), "
                                        + "the file ends at \(bytes.count)")
        }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    mutating func readByte() throws -> UInt8 { try read(1)[0] }

    mutating func readUInt(_ count: Int) throws -> UInt64 {
        try read(count).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    mutating func readLength(_ width: Int) throws -> Int {
        let value = try readUInt(width)
        guard value <= UInt64(bytes.count) else {
            throw FormatError.truncated(path: path, reason: "pickle item of \(value) bytes at offset \(position), "
                                        + "the file has \(bytes.count)")
        }
        return Int(value)
    }

    /// A little-endian two's-complement integer of `count` bytes (LONG1).
    mutating func readLong(count: Int) throws -> Int64 {
        guard count <= 8 else { throw malformed("integer of \(count) bytes at offset \(position) is too large") }
        let raw = try read(count)
        guard let last = raw.last else { return 0 }
        var value = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if last & 0x80 != 0, count < 8 { value |= ~UInt64(0) << (8 * count) }  // sign-extend
        return Int64(bitPattern: value)
    }

    mutating func readString(count: Int) throws -> String {
        let raw = try read(count)
        guard let string = String(validating: raw, as: UTF8.self) else {
            throw malformed("invalid UTF-8 string at offset \(position - count)")
        }
        return string
    }

    /// A newline-terminated ASCII line (the arguments of `GLOBAL`).
    mutating func readLine() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else {
            throw FormatError.truncated(path: path, reason: "GLOBAL name at offset \(position) is not terminated")
        }
        let line = try readString(count: end - position)
        position += 1
        return line
    }
}
