/// One dataset of an HDF5 file as this reader supports it: a float32
/// little-endian array stored contiguously (or compactly, inside its header).
///
/// Decoded from three messages of the dataset's object header:
/// - dataspace (0x01), version 1 `[version, rank, flags, reserved(5)]` or
///   version 2 `[version, rank, flags, type]`, then `rank` extents of
///   `lengthSize` bytes (maximum extents follow when flags bit 0 is set);
/// - datatype (0x03), `[class | version << 4, bit fields (3), size (4)]`
///   then the properties; only IEEE binary32, little-endian, is accepted
///   (class 1, size 4, bit offset 0, precision 32, exponent at bit 23 of
///   width 8, mantissa at bit 0 of width 23, bias 127);
/// - layout (0x08), version 3: class 0 (compact: size (2), bytes) or class 1
///   (contiguous: address, size).
/// Chunked, virtual or filtered (compressed) storage and external files are refused.
struct HDF5Dataset {
    let shape: [Int]
    /// The data's bytes in the file (`4 × elements` of them).
    let data: Range<Int>

    init(_ header: HDF5ObjectHeader, name: String, in file: HDF5Bytes, limits: FormatLimits) throws {
        let what = "dataset '\(name)'"
        if header.has(HDF5ObjectHeader.MessageType.filterPipeline) { throw file.unsupported("filters (compression) in \(what)") }
        if header.has(HDF5ObjectHeader.MessageType.externalFiles) { throw file.unsupported("external data files in \(what)") }
        guard let space = try header.first(HDF5ObjectHeader.MessageType.dataspace, in: file),
              let type = try header.first(HDF5ObjectHeader.MessageType.datatype, in: file),
              let layout = try header.first(HDF5ObjectHeader.MessageType.layout, in: file) else {
            throw file.malformed("\(what) lacks its dataspace, datatype or layout message")
        }
        shape = try HDF5Dataset.shape(space.body, what, in: file)
        guard let elements = CheckedSize.byteCount(shape, elementSize: 1),
              let byteCount = CheckedSize.product(elements, 4) else {
            throw file.malformed("\(what) has shape \(describeShape(shape)), whose size overflows")
        }
        try limits.check(.tensorElements, elements, path: file.path, what: "\(what) (\(describeShape(shape)))")
        try HDF5Dataset.checkFloat32(type.body, what, in: file)
        data = try HDF5Dataset.storage(layout.body, byteCount: byteCount, what, in: file)
    }

    var elementCount: Int { data.count / 4 }

    static func shape(_ body: Range<Int>, _ what: String, in file: HDF5Bytes) throws -> [Int] {
        let at = body.lowerBound, subject = "dataspace of \(what)"
        let version = try file.byte(at, subject), rank = try file.byte(at + 1, subject)
        let first: Int
        switch version {
        case 1: first = at + 8
        case 2:
            let kind = try file.byte(at + 3, subject)
            guard kind != 2 else { return [0] }  // a null dataspace holds nothing
            first = at + 4
        default: throw file.unsupported("dataspace version \(version) in \(what)")
        }
        guard rank <= 32 else { throw file.malformed("\(subject) has rank \(rank) (HDF5 allows 32)") }
        var shape: [Int] = []
        for axis in 0..<rank {
            guard let offset = CheckedSize.sum(first, axis * file.lengthSize),
                  offset + file.lengthSize <= body.upperBound else {
                throw file.malformed("\(subject) is shorter than its \(rank) extents")
            }
            shape.append(try file.length(offset, subject))
        }
        return shape
    }

    static func checkFloat32(_ body: Range<Int>, _ what: String, in file: HDF5Bytes) throws {
        let at = body.lowerBound, subject = "datatype of \(what)"
        let classCode = try file.byte(at, subject) & 0x0F
        let bits = try file.integer(at + 1, size: 3, subject)
        let size = try file.integer(at + 4, size: 4, subject)
        if classCode == 1 && bits & 1 == 0 && size == 4 {
            guard body.count >= 20 else { throw file.malformed("\(subject) is \(body.count) bytes, too short for a float") }
            // bit offset, precision, exponent location and size, mantissa location and size, bias
            let properties = [try file.integer(at + 8, size: 2, subject), try file.integer(at + 10, size: 2, subject),
                              try file.byte(at + 12, subject), try file.byte(at + 13, subject),
                              try file.byte(at + 14, subject), try file.byte(at + 15, subject),
                              try file.integer(at + 16, size: 4, subject)]
            if properties == [0, 32, 23, 8, 0, 23, 127] { return }
        }
        let classes = ["integer", "float", "time", "string", "bitfield", "opaque", "compound", "reference",
                       "enum", "variable-length", "array"]
        let found = "\(classCode < classes.count ? classes[classCode] : "class \(classCode)") of \(size) bytes"
            + (classCode <= 1 && bits & 1 == 1 ? ", big-endian" : "")
        throw FormatError.unsupportedDType(path: file.path, dtype: "\(found) (\(what))",
                                           supported: "little-endian IEEE float32")
    }

    static func storage(_ body: Range<Int>, byteCount: Int, _ what: String, in file: HDF5Bytes) throws -> Range<Int> {
        let at = body.lowerBound, subject = "layout of \(what)"
        let version = try file.byte(at, subject)
        guard version == 3 else { throw file.unsupported("layout message version \(version) in \(what)") }
        let data: Range<Int>
        switch try file.byte(at + 1, subject) {
        case 0:
            let size = try file.integer(at + 2, size: 2, subject)
            data = try file.range(at + 4, size, "compact data of \(what)")
            guard data.upperBound <= body.upperBound else { throw file.malformed("compact data of \(what) runs past its message") }
        case 1:
            let size = try file.length(at + 2 + file.offsetSize, subject)
            guard let address = try file.address(at + 2, subject) else {
                guard byteCount == 0 else { throw file.malformed("\(what) has no storage allocated") }
                return 0..<0
            }
            data = try file.range(address, size, "data of \(what)")
        case 2: throw file.unsupported("chunked storage in \(what)")
        case let other: throw file.unsupported("storage layout class \(other) in \(what)")
        }
        guard data.count == byteCount else {
            throw file.malformed("\(what) stores \(data.count) bytes, but its shape and float32 need \(byteCount)")
        }
        return data
    }
}
