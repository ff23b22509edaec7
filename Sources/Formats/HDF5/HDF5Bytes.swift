/// Bounds-checked little-endian reads from the bytes of an HDF5 file.
///
/// Every offset and extent comes from the file, so each read first proves
/// `offset + count ≤ file size` with checked arithmetic (`CheckedSize`) and
/// throws `FormatError.truncated` naming the structure being read otherwise.
/// Addresses and lengths are `offsetSize` and `lengthSize` bytes wide, as the
/// superblock says (4 or 8).
struct HDF5Bytes {
    let bytes: UnsafeRawBufferPointer
    /// The file, as shown in messages.
    let path: String
    var offsetSize = 8
    var lengthSize = 8

    /// The range `offset..<offset + count`, or `truncated` when any of it lies outside the file.
    func range(_ offset: Int, _ count: Int, _ what: String) throws -> Range<Int> {
        guard offset >= 0, count >= 0, let end = CheckedSize.sum(offset, count), end <= bytes.count else {
            throw FormatError.truncated(path: path, reason: "\(what) at byte \(offset) (\(count) bytes) "
                + "lies outside the file (\(bytes.count) bytes)")
        }
        return offset..<end
    }

    /// The unsigned little-endian integer of `size` bytes (1…8) at `offset`.
    func unsigned(_ offset: Int, size: Int, _ what: String) throws -> UInt64 {
        let span = try range(offset, size, what)
        var value: UInt64 = 0
        for index in span.reversed() { value = value << 8 | UInt64(bytes[index]) }
        return value
    }

    /// An unsigned integer of `size` bytes that must fit an `Int`.
    func integer(_ offset: Int, size: Int, _ what: String) throws -> Int {
        let value = try unsigned(offset, size: size, what)
        guard value <= UInt64(Int.max) else { throw malformed("\(what) is \(value), beyond any file") }
        return Int(value)
    }

    func byte(_ offset: Int, _ what: String) throws -> Int { try integer(offset, size: 1, what) }

    /// A file address, or nil for HDF5's "undefined address" (all bits set).
    func address(_ offset: Int, _ what: String) throws -> Int? {
        let value = try unsigned(offset, size: offsetSize, what)
        let undefined: UInt64 = offsetSize == 8 ? .max : (1 << UInt64(8 * offsetSize)) - 1
        if value == undefined { return nil }
        guard value <= UInt64(Int.max) else { throw malformed("\(what) is \(value), beyond any file") }
        return Int(value)
    }

    /// An address that must be defined.
    func definedAddress(_ offset: Int, _ what: String) throws -> Int {
        guard let address = try address(offset, what) else { throw malformed("\(what) is undefined") }
        return address
    }

    /// A length field (`lengthSize` bytes).
    func length(_ offset: Int, _ what: String) throws -> Int { try integer(offset, size: lengthSize, what) }

    /// Throws unless the ASCII `signature` is at `offset`.
    func expectSignature(_ signature: String, at offset: Int, _ what: String) throws {
        let span = try range(offset, signature.utf8.count, what)
        guard zip(span, signature.utf8).allSatisfy({ bytes[$0] == $1 }) else {
            throw malformed("\(what) at byte \(offset) does not start with '\(signature)'")
        }
    }

    /// The NUL-terminated string at `offset`, which must end before `end`.
    func string(_ offset: Int, end: Int, _ what: String) throws -> String {
        let span = try range(offset, max(0, end - offset), what)
        guard let terminator = span.first(where: { bytes[$0] == 0 }) else {
            throw malformed("\(what) at byte \(offset) is not NUL-terminated inside its heap")
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<terminator]), as: UTF8.self)
    }

    func malformed(_ reason: String) -> FormatError { .malformedHeader(path: path, reason: reason) }

    /// A feature of HDF5 this reader does not implement, named so that the
    /// user knows how the file would have to be written instead.
    func unsupported(_ feature: String) -> FormatError {
        .invalidData(path: path, reason: "uses \(feature), which this HDF5 reader does not support "
            + "(it reads superblock 0/1, version-1 object headers, symbol-table groups and "
            + "contiguous or compact little-endian float32 datasets)")
    }
}
