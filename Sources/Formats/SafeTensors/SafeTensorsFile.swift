import Foundation
import TensorCore

/// A safetensors file, memory-mapped: opening validates the header (see
/// `SafeTensorsHeader`) and reads no tensor data; each `tensor(_:)` call
/// copies one tensor out of the mapping.
///
/// Float tensors (F32, F16, BF16, F64) read as Float32 `Tensor`s, integer
/// tensors (I64, I32) as `[Int64]`; other dtypes are listed by `info` but
/// cannot be read. Checkpoints keep their model config as JSON in `metadata`.
public final class SafeTensorsFile: @unchecked Sendable {
    // @unchecked: the mapping is read-only and never changes after init.
    private let file: MappedFile
    private let header: SafeTensorsHeader

    /// The tensor names, sorted.
    public let names: [String]

    /// The `"__metadata__"` entry (empty when absent).
    public var metadata: [String: String] { header.metadata }

    /// Maps and validates `url`, refusing headers and tensors above `limits`.
    public init(contentsOf url: URL, limits: FormatLimits = .fromEnvironment()) throws {
        file = try MappedFile(url)
        header = try SafeTensorsHeader.parse(file.bytes, path: file.path, limits: limits)
        names = header.entries.keys.sorted()
    }

    /// The dtype name (`"F32"`, `"BF16"`, `"I64"`…) and shape of `name`, or nil.
    public func info(_ name: String) -> (dtype: String, shape: [Int])? {
        header.entries[name].map { ($0.dtype.rawValue, $0.shape) }
    }

    /// The tensor `name` as Float32; F16, BF16 and F64 are converted (F64 rounds).
    public func tensor(_ name: String) throws -> Tensor {
        let entry = try lookup(name)
        let (data, count) = bytes(of: entry)
        let source = data.baseAddress!
        let scalars: [Float]
        switch entry.dtype {
        case .F32:
            scalars = copyElements(of: Float.self, from: data)
        case .F16:
            scalars = convert(count) { floatFromHalf(source.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }
        case .BF16:
            scalars = convert(count) { floatFromBFloat16(source.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }
        case .F64:
            scalars = convert(count) { Float(source.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self)) }
        default:
            throw wrongType(name, entry, expected: SafeTensorsDType.floatTypes)
        }
        return Tensor(shape: entry.shape, scalars: scalars)
    }

    /// The integer tensor `name`, flattened; I32 is widened.
    public func int64(_ name: String) throws -> [Int64] {
        let entry = try lookup(name)
        let (data, count) = bytes(of: entry)
        let source = data.baseAddress!
        switch entry.dtype {
        case .I64:
            return copyElements(of: Int64.self, from: data)
        case .I32:
            return convert(count) { Int64(source.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        default:
            throw wrongType(name, entry, expected: SafeTensorsDType.integerTypes)
        }
    }

    /// The entry's bytes within the mapping (the header proved them inside
    /// the file) and its element count; never empty-based, so the base
    /// address exists even for zero elements.
    private func bytes(of entry: SafeTensorsHeader.Entry) -> (UnsafeRawBufferPointer, Int) {
        let start = header.dataOffset + entry.dataOffsets.lowerBound
        let data = UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + entry.dataOffsets.count)])
        return (data, entry.dataOffsets.count / entry.dtype.byteSize)
    }

    private func lookup(_ name: String) throws -> SafeTensorsHeader.Entry {
        guard let entry = header.entries[name] else {
            throw FormatError.tensorNotFound(path: file.path, name: name)
        }
        return entry
    }

    private func wrongType(_ name: String, _ entry: SafeTensorsHeader.Entry,
                           expected: [SafeTensorsDType]) -> FormatError {
        FormatError.wrongDType(path: file.path, tensor: name, found: entry.dtype.rawValue,
                               expected: expected.map(\.rawValue).joined(separator: ", "))
    }

    /// An array of `count` elements computed by `element(index)`.
    private func convert<T>(_ count: Int, _ element: (Int) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { (buffer.baseAddress! + i).initialize(to: element(i)) }
            initialized = count
        }
    }
}
