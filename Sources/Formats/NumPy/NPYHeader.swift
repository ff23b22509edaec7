/// The header of a NumPy `.npy` file.
///
/// Layout (all versions):
/// ```
/// "\x93NUMPY" major minor  header-length  header-text  data…
///    6 bytes   1     1     2 bytes (v1)   Python dict literal, padded with
///                          4 bytes (v2, v3)  spaces and ending in "\n"
/// ```
/// The length is little-endian; the text is Latin-1 (v1, v2) or UTF-8 (v3),
/// e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
/// The data follows in C order with no padding. NumPy pads the header so the
/// data starts at a multiple of 64 bytes; readers must not rely on it.
struct NPYHeader: Equatable {
    var dtype: NPYDType
    var shape: [Int]
    /// Where the data begins, from the start of the file.
    var dataOffset: Int

    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    static let alignment = 64

    /// Parses the header at the start of `bytes` (the whole file); a header
    /// longer than `limits.npyHeaderBytes` is refused before it is decoded.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String, limits: FormatLimits) throws -> NPYHeader {
        guard bytes.count >= magic.count, bytes.prefix(magic.count).elementsEqual(magic) else {
            throw FormatError.badMagic(path: path, format: ".npy")
        }
        guard bytes.count >= 8 else {
            throw FormatError.truncated(path: path, reason: "file ends inside the .npy preamble")
        }
        let major = bytes[6], minor = bytes[7]
        let lengthSize: Int
        switch major {
        case 1: lengthSize = 2
        case 2, 3: lengthSize = 4
        default:
            throw FormatError.malformedHeader(path: path, reason: "unsupported .npy format version \(major).\(minor)")
        }
        guard bytes.count >= 8 + lengthSize else {
            throw FormatError.truncated(path: path, reason: "file ends inside the .npy preamble")
        }
        var headerLength = 0
        for i in 0..<lengthSize { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        let textStart = 8 + lengthSize
        try limits.check(.npyHeaderBytes, headerLength, path: path, what: ".npy header")
        guard headerLength <= bytes.count - textStart else {
            throw FormatError.truncated(
                path: path,
                reason: "header length \(headerLength) runs past the end of the \(bytes.count)-byte file")
        }
        let textBytes = UnsafeRawBufferPointer(rebasing: bytes[textStart..<(textStart + headerLength)])
        // Latin-1 maps bytes to the scalars of the same value.
        let text = major == 3
            ? String(decoding: textBytes, as: UTF8.self)
            : String(String.UnicodeScalarView(textBytes.map { Unicode.Scalar($0) }))
        let (dtype, shape) = try interpret(text, path: path)
        return NPYHeader(dtype: dtype, shape: shape, dataOffset: textStart + headerLength)
    }

    /// Checks the dictionary's keys and values.
    private static func interpret(_ text: String, path: String) throws -> (NPYDType, [Int]) {
        let literal: PythonLiteral
        do {
            literal = try PythonLiteral.parse(text)
        } catch {
            throw FormatError.malformedHeader(path: path, reason: "cannot parse header dictionary: \(error.message)")
        }
        guard case .dictionary(let entries) = literal else {
            throw FormatError.malformedHeader(path: path, reason: "header is not a dictionary")
        }
        let expected: Set = ["descr", "fortran_order", "shape"]
        guard Set(entries.keys) == expected else {
            let keys = entries.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw FormatError.malformedHeader(
                path: path, reason: "header keys are [\(keys)], expected 'descr', 'fortran_order', 'shape'")
        }
        guard let shape = extents(entries["shape"]) else {
            throw FormatError.malformedHeader(
                path: path, reason: "shape \(entries["shape"]!.repr) is not a tuple of non-negative integers")
        }
        guard case .boolean(let fortranOrder)? = entries["fortran_order"] else {
            throw FormatError.malformedHeader(
                path: path, reason: "fortran_order \(entries["fortran_order"]!.repr) is not True or False")
        }
        guard case .string(let descr)? = entries["descr"], let dtype = NPYDType(descr: descr) else {
            var shown = entries["descr"]!.repr
            if case .string(let descr)? = entries["descr"], descr.hasPrefix(">") {
                shown += " (big-endian; convert with .astype('<\(descr.dropFirst())'))"
            }
            throw FormatError.unsupportedDType(path: path, dtype: shown, supported: NPYDType.supportedList)
        }
        // With at most one axis longer than 1, Fortran and C order are the same bytes.
        if fortranOrder && shape.filter({ $0 > 1 }).count > 1 {
            throw FormatError.fortranOrder(path: path)
        }
        return (dtype, shape)
    }

    /// The extents of a `shape` tuple; nil unless it is a tuple of non-negative integers.
    private static func extents(_ value: PythonLiteral?) -> [Int]? {
        guard case .tuple(let items)? = value else { return nil }
        var shape: [Int] = []
        for item in items {
            guard case .integer(let extent) = item, extent >= 0 else { return nil }
            shape.append(extent)
        }
        return shape
    }

    /// The preamble and padded header text for an array, version 1.0 when the
    /// text fits in 65535 bytes, else 2.0.
    static func encode(dtype: NPYDType, shape: [Int]) -> [UInt8] {
        let shapeText = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
        let dictionary = Array("{'descr': '\(dtype.descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        for (major, lengthSize) in [(UInt8(1), 2), (UInt8(2), 4)] {
            let unpadded = magic.count + 2 + lengthSize + dictionary.count + 1  // + "\n"
            let total = (unpadded + alignment - 1) / alignment * alignment
            let headerLength = total - magic.count - 2 - lengthSize
            if lengthSize == 2 && headerLength > Int(UInt16.max) { continue }
            var bytes = magic + [major, 0]
            for i in 0..<lengthSize { bytes.append(UInt8(truncatingIfNeeded: headerLength >> (8 * i))) }
            bytes += dictionary
            bytes += [UInt8](repeating: 0x20, count: total - bytes.count - 1)
            bytes.append(0x0A)
            return bytes
        }
        preconditionFailure("unreachable: a 2.0 header always fits")
    }
}
