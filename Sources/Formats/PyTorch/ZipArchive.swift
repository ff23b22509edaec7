import Foundation

/// A read-only view of a zip archive whose entries are *stored* (method 0,
/// uncompressed), as `torch.save` writes them: the entries are found through
/// the central directory (zip64 records and extra fields included), and an
/// entry's data is a slice of the memory-mapped file, not a copy.
///
/// Compressed or encrypted entries, split archives and directories that
/// point outside the file are errors naming the file. CRCs are not checked.
/// Sizes a directory entry claims are checked against `FormatLimits`
/// (inflated size, compression ratio) when the directory is read, so a
/// zip bomb is refused before anything could inflate it.
struct ZipArchive {
    struct Entry {
        let name: String
        let method: UInt16
        let flags: UInt16
        let size: Int
        let localHeaderOffset: Int
    }

    let path: String
    /// Entries in central-directory order.
    let entries: [Entry]
    private let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer, path: String, limits: FormatLimits) throws {
        self.bytes = bytes
        self.path = path
        var reader = ByteReader(bytes, path: path)
        let end = try Self.findEndOfCentralDirectory(bytes, path: path)
        reader.position = end + 10
        var count = Int(try reader.uint(2))
        var directorySize = Int(try reader.uint(4))
        var directoryOffset = Int(try reader.uint(4))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // Zip64: a locator just before the end record points to the zip64 end record.
            guard end >= 20 else { throw Self.malformed(path, "zip64 locator missing") }
            reader.position = end - 20
            guard try reader.uint(4) == 0x0706_4B50 else { throw Self.malformed(path, "zip64 locator missing") }
            reader.position += 4
            reader.position = try reader.offset(8)
            guard try reader.uint(4) == 0x0606_4B50 else { throw Self.malformed(path, "zip64 end record missing") }
            reader.position += 20
            count = try reader.offset(8)
            directorySize = try reader.offset(8)
            directoryOffset = try reader.offset(8)
        }
        guard directoryOffset <= bytes.count, directorySize <= bytes.count - directoryOffset else {
            throw Self.malformed(path, "central directory (offset \(directoryOffset), \(directorySize) bytes) "
                                 + "lies outside the \(bytes.count)-byte file")
        }
        reader.position = directoryOffset
        var entries: [Entry] = []
        for _ in 0..<count {
            entries.append(try Self.readDirectoryEntry(&reader, limits: limits))
        }
        self.entries = entries
    }

    /// The entry's data, checked to lie inside the file.
    func data(_ entry: Entry) throws -> UnsafeRawBufferPointer {
        guard entry.method == 0 else {
            throw Self.malformed(path, "entry '\(entry.name)' is compressed (method \(entry.method)); "
                                 + "only stored entries are supported")
        }
        guard entry.flags & 1 == 0 else { throw Self.malformed(path, "entry '\(entry.name)' is encrypted") }
        var reader = ByteReader(bytes, path: path)
        reader.position = entry.localHeaderOffset
        guard try reader.uint(4) == 0x0403_4B50 else {
            throw Self.malformed(path, "entry '\(entry.name)' has no local header at offset \(entry.localHeaderOffset)")
        }
        reader.position += 22
        let nameLength = Int(try reader.uint(2)), extraLength = Int(try reader.uint(2))
        let start = reader.position + nameLength + extraLength
        guard start <= bytes.count, entry.size <= bytes.count - start else {
            throw FormatError.truncated(path: path, reason: "entry '\(entry.name)' needs \(entry.size) bytes "
                                        + "at offset \(start), the file has \(bytes.count)")
        }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<start + entry.size])
    }

    private static func readDirectoryEntry(_ reader: inout ByteReader, limits: FormatLimits) throws -> Entry {
        guard try reader.uint(4) == 0x0201_4B50 else {
            throw malformed(reader.path, "bad central directory entry at offset \(reader.position - 4)")
        }
        reader.position += 4
        let flags = UInt16(try reader.uint(2))
        let method = UInt16(try reader.uint(2))
        reader.position += 8
        var compressedSize = try reader.uint(4)
        var size = try reader.uint(4)
        let nameLength = Int(try reader.uint(2))
        let extraLength = Int(try reader.uint(2))
        let commentLength = Int(try reader.uint(2))
        let disk = try reader.uint(2)
        reader.position += 6
        var localOffset = try reader.uint(4)
        let nameBytes = try reader.bytes(nameLength)
        let extraEnd = reader.position + extraLength
        // Zip64 extended information (id 1): 8-byte fields, present only for
        // the 32-bit fields that are saturated, in this order.
        while reader.position + 4 <= extraEnd {
            let id = try reader.uint(2), length = Int(try reader.uint(2))
            let fieldEnd = reader.position + length
            if id == 1 {
                if size == 0xFFFF_FFFF { size = try reader.uint(8) }
                if compressedSize == 0xFFFF_FFFF { compressedSize = try reader.uint(8) }
                if localOffset == 0xFFFF_FFFF { localOffset = try reader.uint(8) }
            }
            reader.position = fieldEnd
        }
        reader.position = extraEnd + commentLength
        guard disk == 0 || disk == 0xFFFF else { throw malformed(reader.path, "multi-disk archives are not supported") }
        guard let name = String(validating: nameBytes, as: UTF8.self) else {
            throw malformed(reader.path, "entry name is not UTF-8")
        }
        guard method != 0 || compressedSize == size else {
            throw malformed(reader.path, "stored entry '\(name)' has differing sizes")
        }
        if method != 0 {
            let what = "entry '\(name)' (\(size) bytes from \(compressedSize))"
            try limits.check(.inflatedBytes, Int(clamping: size), path: reader.path, what: what)
            if size > 1 << 20 {
                let ratio = Int(clamping: size / max(compressedSize, 1))
                try limits.check(.compressionRatio, ratio, path: reader.path, what: what)
            }
        }
        guard size <= UInt64(Int.max), localOffset <= UInt64(Int.max) else {
            throw malformed(reader.path, "entry '\(name)' is too large")
        }
        return Entry(name: name, method: method, flags: flags, size: Int(size), localHeaderOffset: Int(localOffset))
    }

    /// The offset of the end-of-central-directory record: the last signature
    /// within the final 64 KiB + 22 bytes (the record plus a maximal comment).
    private static func findEndOfCentralDirectory(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Int {
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        var offset = bytes.count - 22
        while offset >= lowest {
            if bytes[offset] == 0x50, bytes[offset + 1] == 0x4B, bytes[offset + 2] == 0x05, bytes[offset + 3] == 0x06 {
                return offset
            }
            offset -= 1
        }
        throw FormatError.truncated(path: path, reason: "no zip end-of-central-directory record "
                                    + "(the archive is cut short or damaged)")
    }

    private static func malformed(_ path: String, _ reason: String) -> FormatError {
        .malformedArchive(path: path, reason: reason)
    }
}

/// Bounds-checked little-endian reads from a byte buffer.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard position >= 0, count >= 0, position <= bytes.count, count <= bytes.count - position else {
            throw FormatError.truncated(path: path, reason: "needs \(count) bytes at offset \(position), "
                                        + "the file has \(bytes.count)")
        }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    /// An unsigned little-endian integer of `width` bytes.
    mutating func uint(_ width: Int) throws -> UInt64 {
        try bytes(width).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// An unsigned integer used as an offset or size; must fit the file.
    mutating func offset(_ width: Int) throws -> Int {
        let value = try uint(width)
        guard value <= UInt64(bytes.count) else {
            throw FormatError.malformedArchive(path: path, reason: "offset or size \(value) exceeds the "
                                               + "\(bytes.count)-byte file")
        }
        return Int(value)
    }
}
