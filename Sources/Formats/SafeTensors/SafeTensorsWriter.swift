import Foundation
import TensorCore

/// A tensor to store in a safetensors file.
public enum SafeTensorValue: Sendable {
    /// Stored as F32 with the tensor's shape.
    case float32(Tensor)
    /// Stored as I64; `shape`'s product must equal the count.
    case int64([Int64], shape: [Int])

    fileprivate var dtype: SafeTensorsDType {
        switch self {
        case .float32: return .F32
        case .int64: return .I64
        }
    }

    fileprivate var shape: [Int] {
        switch self {
        case .float32(let tensor): return tensor.shape
        case .int64(_, let shape): return shape
        }
    }

    fileprivate var byteCount: Int {
        switch self {
        case .float32(let tensor): return tensor.count * 4
        case .int64(let values, _): return values.count * 8
        }
    }
}

extension SafeTensorsFile {
    /// Writes `tensors`, data laid out in the given order, with `metadata`
    /// as the `"__metadata__"` entry (omitted when empty).
    ///
    /// The file is streamed to disk (no copy of the tensors is assembled in
    /// memory) and replaced atomically. Names must be unique and not
    /// `"__metadata__"`; otherwise `FormatError.writeFailed` and nothing is written.
    public static func write(_ tensors: [(name: String, value: SafeTensorValue)],
                             metadata: [String: String] = [:], to url: URL) throws {
        var seen = Set<String>()
        for (name, value) in tensors {
            if case .int64(let values, let shape) = value {
                precondition(shape.allSatisfy { $0 >= 0 } && values.count == Tensor.elementCount(shape),
                             "int64 tensor '\(name)': shape \(shape) does not hold \(values.count) values")
            }
            guard name != SafeTensorsHeader.metadataKey, seen.insert(name).inserted else {
                throw FormatError.writeFailed(path: displayPath(url), reason: "duplicate or reserved tensor name '\(name)'")
            }
        }
        var offset = 0
        var entries: [(name: String, entry: SafeTensorsHeader.Entry)] = []
        for (name, value) in tensors {
            let range = offset..<(offset + value.byteCount)
            entries.append((name, .init(dtype: value.dtype, shape: value.shape, dataOffsets: range)))
            offset = range.upperBound
        }
        let header = SafeTensorsHeader.encode(entries, metadata: metadata)
        try AtomicFile.write(to: url) { writer in
            try writer.write(contentsOf: header)
            for (_, value) in tensors {
                switch value {
                case .float32(let tensor): try tensor.withUnsafeBufferPointer { try writer.write(UnsafeRawBufferPointer($0)) }
                case .int64(let values, _): try writer.write(contentsOf: values)
                }
            }
        }
    }
}
