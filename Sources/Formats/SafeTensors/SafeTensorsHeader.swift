import Foundation

/// The header of a safetensors file, validated against the file's size.
///
/// Layout:
/// ```
/// N (UInt64, little-endian)   JSON header (N bytes, UTF-8, may end in spaces)   data…
/// ```
/// The JSON maps each tensor name to
/// `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}`, offsets
/// in bytes from the start of the data; the optional `"__metadata__"` entry
/// maps strings to strings. As in the reference implementation, the entries
/// sorted by offsets must tile the data exactly: the first begins at 0, each
/// begins where the previous ends (no overlap, no gap) and the last ends at
/// the end of the file; names need not be in data order.
struct SafeTensorsHeader {
    /// One tensor: its type, shape and byte range within the data.
    struct Entry: Equatable {
        var dtype: SafeTensorsDType
        var shape: [Int]
        var dataOffsets: Range<Int>
    }

    var entries: [String: Entry]
    var metadata: [String: String]
    /// Where the data begins, from the start of the file (8 + N).
    var dataOffset: Int

    static let metadataKey = "__metadata__"

    /// Parses and validates the header of the whole-file `bytes`. A length
    /// above `limits.safeTensorsHeaderBytes` (100 MB by default, the
    /// reference's limit) is refused before any JSON is decoded, and the
    /// tensors' elements are checked against the element limits.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String, limits: FormatLimits) throws -> SafeTensorsHeader {
        guard bytes.count >= 8 else {
            throw FormatError.truncated(path: path, reason: "\(bytes.count) bytes, shorter than the 8-byte header length")
        }
        let declared = bytes.loadUnaligned(as: UInt64.self).littleEndian
        try limits.check(.safeTensorsHeaderBytes, Int(clamping: declared), path: path,
                         what: "header length (not a safetensors file?)")
        let length = Int(declared)
        guard length <= bytes.count - 8 else {
            throw FormatError.malformedHeader(
                path: path, reason: "header length \(length) exceeds the \(bytes.count)-byte file")
        }
        let json = Data(bytes: bytes.baseAddress! + 8, count: length)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json)
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw FormatError.malformedHeader(path: path, reason: "invalid JSON: \(detail ?? error.localizedDescription)")
        }
        guard let dictionary = object as? [String: Any] else {
            throw FormatError.malformedHeader(path: path, reason: "the JSON header is not an object")
        }
        let dataSize = bytes.count - 8 - length
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for name in dictionary.keys.sorted() {  // sorted: the first bad entry reported is stable
            let value = dictionary[name]!
            if name == metadataKey {
                guard let strings = value as? [String: String] else {
                    throw FormatError.malformedHeader(path: path, reason: "__metadata__ must map strings to strings")
                }
                metadata = strings
            } else {
                let entry = try validate(value, name: name, dataSize: dataSize, path: path)
                let elements = entry.dataOffsets.count / entry.dtype.byteSize
                try limits.check(.tensorElements, elements, path: path, what: "tensor '\(name)' \(describeShape(entry.shape))")
                entries[name] = entry
            }
        }
        try checkTiling(entries, dataSize: dataSize, path: path, limits: limits)
        return SafeTensorsHeader(entries: entries, metadata: metadata, dataOffset: 8 + length)
    }

    /// The reference's rule: sorted by (begin, end), each tensor begins where
    /// the previous one ended, starting at 0 and ending at the data's end.
    /// Overlapping tensors would alias each other's bytes; gaps and trailing
    /// bytes are data that no tensor accounts for.
    private static func checkTiling(_ entries: [String: Entry], dataSize: Int, path: String,
                                    limits: FormatLimits) throws {
        let ordered = entries.sorted {
            ($0.value.dataOffsets.lowerBound, $0.value.dataOffsets.upperBound, $0.key)
                < ($1.value.dataOffsets.lowerBound, $1.value.dataOffsets.upperBound, $1.key)
        }
        var expected = 0
        for (name, entry) in ordered {
            guard entry.dataOffsets.lowerBound == expected else {
                let problem = entry.dataOffsets.lowerBound < expected ? "overlaps the tensor before it"
                                                                      : "leaves a gap after the tensor before it"
                throw FormatError.invalidTensor(
                    path: path, name: name,
                    reason: "data_offsets [\(entry.dataOffsets.lowerBound), \(entry.dataOffsets.upperBound)] "
                        + "\(problem), which ends at byte \(expected)")
            }
            expected = entry.dataOffsets.upperBound
        }
        guard expected == dataSize else {
            throw FormatError.malformedHeader(
                path: path, reason: "the tensors cover \(expected) of the \(dataSize) data bytes; the rest belongs to no tensor")
        }
        let total = ordered.reduce(0) { $0 + $1.value.dataOffsets.count / $1.value.dtype.byteSize }
        try limits.check(.fileElements, total, path: path, what: "all tensors")
    }

    /// Checks one tensor entry: known dtype, non-negative shape, offsets
    /// inside the data and matching shape × dtype size.
    private static func validate(_ value: Any, name: String, dataSize: Int, path: String) throws -> Entry {
        func invalid(_ reason: String) -> FormatError {
            FormatError.invalidTensor(path: path, name: name, reason: reason)
        }
        guard let fields = value as? [String: Any] else { throw invalid("entry is not a JSON object") }
        for key in ["dtype", "shape", "data_offsets"] where fields[key] == nil {
            throw invalid("missing key '\(key)'")
        }
        guard let dtypeName = fields["dtype"] as? String else { throw invalid("dtype is not a string") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw invalid("unknown dtype '\(dtypeName)'")
        }
        guard let shape = integers(fields["shape"]) else { throw invalid("shape is not a list of integers") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw invalid("negative extent in shape \(shape)") }
        guard let offsets = integers(fields["data_offsets"]), offsets.count == 2 else {
            throw invalid("data_offsets must be [begin, end], two integers")
        }
        let begin = offsets[0], end = offsets[1]
        guard 0 <= begin, begin <= end, end <= dataSize else {
            throw invalid("data_offsets [\(begin), \(end)] out of range of the \(dataSize) data bytes")
        }
        let needed = CheckedSize.byteCount(shape, elementSize: dtype.byteSize)
        guard needed == end - begin else {
            let size = needed.map { "\($0) bytes" } ?? "more bytes than fit in memory"
            throw invalid("shape \(shape) of \(dtype) needs \(size) but data_offsets [\(begin), \(end)] hold \(end - begin)")
        }
        return Entry(dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }

    /// A JSON array of integers (each exactly an `Int`), or nil.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let items = value as? [Any] else { return nil }
        var result: [Int] = []
        for item in items {
            // NSNumber bridges to Int only when the value is exactly an Int (not 4.5, not 2⁶⁴−1).
            guard let integer = item as? Int else { return nil }
            result.append(integer)
        }
        return result
    }

    /// The 8-byte length and the JSON header, padded with spaces to a multiple
    /// of 8 bytes so that the data starts 8-byte aligned. Keys appear in the
    /// order given, metadata first with sorted keys.
    static func encode(_ entries: [(name: String, entry: Entry)], metadata: [String: String]) -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            parts.append("\(jsonString(metadataKey)):{\(fields.joined(separator: ","))}")
        }
        for (name, entry) in entries {
            let shape = entry.shape.map(String.init).joined(separator: ",")
            parts.append("\(jsonString(name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(entry.dataOffsets.lowerBound),\(entry.dataOffsets.upperBound)]}")
        }
        var json = Array("{\(parts.joined(separator: ","))}".utf8)
        json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + json.count)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * i))) }
        return bytes + json
    }
}

/// `s` as a JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
