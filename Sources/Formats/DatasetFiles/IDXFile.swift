import Foundation

/// An IDX array of unsigned bytes, the format of MNIST and Fashion-MNIST.
///
/// Layout (LeCun's description): a 4-byte magic `00 00 TT NN` — type code
/// `TT` (0x08 = unsigned byte, the only type read here) and the number of
/// dimensions `NN` — then `NN` big-endian UInt32 extents, then the data in
/// row-major order. Labels are 0x00000801 `[N]`, images 0x00000803
/// `[N, rows, columns]`. Files may be gzipped (`.gz`); both read the same.
public struct IDXFile: Sendable, Equatable {
    /// The extents, e.g. `[60000, 28, 28]`.
    public let shape: [Int]
    /// `shape.product` bytes, row-major.
    public let bytes: [UInt8]

    public init(shape: [Int], bytes: [UInt8]) {
        precondition(!shape.isEmpty && shape.count <= 255 && shape.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) },
                     "IDX shapes have 1…255 extents that fit in UInt32")
        precondition(bytes.count == shape.reduce(1, *), "IDX data must hold shape.product bytes")
        self.shape = shape
        self.bytes = bytes
    }

    /// The number of items (the first extent).
    public var count: Int { shape[0] }

    /// Reads an IDX file, gzipped or not. With `rank`, the file must have that
    /// many dimensions (1 for labels, 3 for images). The extents are checked
    /// against the file's length and `limits.tensorElements` before the data
    /// is copied.
    public static func read(_ url: URL, rank: Int? = nil, limits: FormatLimits = .fromEnvironment()) throws -> IDXFile {
        let path = displayPath(url)
        let contents = try Gzip.contents(of: url, limits: limits)
        return try contents.withUnsafeBytes { try parse($0, path: path, rank: rank, limits: limits) }
    }

    static func parse(_ data: UnsafeRawBufferPointer, path: String, rank expectedRank: Int?,
                      limits: FormatLimits) throws -> IDXFile {
        guard data.count >= 4, data[0] == 0, data[1] == 0 else {
            throw FormatError.badMagic(path: path, format: "IDX")
        }
        guard data[2] == 0x08 else {
            let names: [UInt8: String] = [0x09: "int8", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64"]
            throw FormatError.unsupportedDType(
                path: path, dtype: names[data[2]] ?? String(format: "type code 0x%02x", data[2]), supported: "uint8 (0x08)")
        }
        let rank = Int(data[3])
        let magic = String(format: "0x%08x", 0x0800 | rank)
        guard rank > 0 else { throw FormatError.malformedHeader(path: path, reason: "magic \(magic) declares no dimensions") }
        if let expectedRank, rank != expectedRank {
            throw FormatError.malformedHeader(
                path: path,
                reason: "magic \(magic) is a \(rank)-D array, expected \(String(format: "0x%08x", 0x0800 | expectedRank)) (\(expectedRank)-D)")
        }
        let headerSize = 4 + 4 * rank
        guard data.count >= headerSize else {
            throw FormatError.truncated(path: path, reason: "\(data.count) bytes, but magic \(magic) needs a \(headerSize)-byte header")
        }
        let shape = (0..<rank).map { Int(UInt32(bigEndian: data.loadUnaligned(fromByteOffset: 4 + 4 * $0, as: UInt32.self))) }
        guard let expected = CheckedSize.byteCount(shape, elementSize: 1) else {
            throw FormatError.malformedHeader(path: path, reason: "dimensions \(describeShape(shape)) overflow")
        }
        try limits.check(.tensorElements, expected, path: path, what: "IDX array \(describeShape(shape))")
        let found = data.count - headerSize
        guard found == expected else {
            let reason = "dimensions \(describeShape(shape)) need \(expected) data bytes, the file holds \(found)"
            throw found < expected ? FormatError.truncated(path: path, reason: reason)
                                   : FormatError.malformedHeader(path: path, reason: reason)
        }
        return IDXFile(shape: shape, bytes: [UInt8](UnsafeRawBufferPointer(rebasing: data[headerSize...])))
    }

    /// The file's bytes: magic, big-endian extents, data.
    public func encoded() -> Data {
        var data = Data([0, 0, 0x08, UInt8(shape.count)])
        for extent in shape { withUnsafeBytes(of: UInt32(extent).bigEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: bytes)
        return data
    }

    /// Writes the file atomically, gzipped when `gzip` is true.
    public func write(to url: URL, gzip: Bool = false) throws {
        try AtomicFile.write(gzip ? Gzip.compress(encoded()) : encoded(), to: url)
    }

    /// Reads an image file `[N, rows, columns]` and its label file `[N]`,
    /// checking that the counts agree and every label is below `classCount`.
    public static func readLabeledImages(images imagesURL: URL, labels labelsURL: URL,
                                         classCount: Int,
                                         limits: FormatLimits = .fromEnvironment()) throws -> (images: IDXFile, labels: [UInt8]) {
        let images = try read(imagesURL, rank: 3, limits: limits)
        let labels = try read(labelsURL, rank: 1, limits: limits)
        guard labels.count == images.count else {
            throw FormatError.invalidData(
                path: displayPath(labelsURL),
                reason: "holds \(labels.count) labels but \(displayPath(imagesURL)) holds \(images.count) images")
        }
        if let index = labels.bytes.firstIndex(where: { Int($0) >= classCount }) {
            throw FormatError.invalidData(
                path: displayPath(labelsURL),
                reason: "label \(labels.bytes[index]) at item \(index) is outside 0…\(classCount - 1)")
        }
        return (images, labels.bytes)
    }
}
