import Foundation
import TensorCore

/// The element type of a PyTorch storage, named after `torch.dtype`
/// (`"float32"`, `"bfloat16"`, `"int64"`…).
///
/// Checkpoints name storages by their legacy class (`torch.FloatStorage`);
/// `init?(storageClass:)` maps those names, the allow-list of storage
/// globals the pickle reader accepts.
public enum PyTorchDType: String, CaseIterable, Sendable {
    case float64, float32, float16, bfloat16
    case int64, int32, int16, int8, uint8, bool

    /// `"FloatStorage"` → `.float32`; nil for any other name.
    init?(storageClass: String) {
        switch storageClass {
        case "DoubleStorage": self = .float64
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage": self = .uint8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// Whether elements read as Float32 (otherwise as Int64).
    public var isFloatingPoint: Bool {
        switch self {
        case .float64, .float32, .float16, .bfloat16: return true
        default: return false
        }
    }

    /// Element `index` of little-endian `bytes` as Float (float64 rounds).
    @inline(__always)
    func float(_ bytes: UnsafeRawPointer, _ index: Int) -> Float {
        switch self {
        case .float32: return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
        case .float16: return floatFromHalf(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)))
        case .bfloat16: return floatFromBFloat16(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)))
        case .float64: return Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self))))
        default: return Float(integer(bytes, index))
        }
    }

    /// Element `index` of little-endian `bytes` as Int64 (integer and bool types).
    @inline(__always)
    func integer(_ bytes: UnsafeRawPointer, _ index: Int) -> Int64 {
        switch self {
        case .int64: return Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * index, as: Int64.self))
        case .int32: return Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * index, as: Int32.self)))
        case .int16: return Int64(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * index, as: Int16.self)))
        case .int8: return Int64(bytes.load(fromByteOffset: index, as: Int8.self))
        case .uint8, .bool: return Int64(bytes.load(fromByteOffset: index, as: UInt8.self))
        default: return Int64(float(bytes, index))
        }
    }
}

/// One tensor of a PyTorch checkpoint, copied out of its storage: `dtype` is
/// the type stored in the file, `value` the converted elements, row-major.
public struct PyTorchTensor: Equatable, Sendable {
    public let dtype: PyTorchDType
    public let value: PyTorchCheckpoint.TensorValue

    public var shape: [Int] { value.shape }
}

extension PyTorchCheckpoint {
    /// Tensor elements as this package computes with them: floating-point
    /// types (float32, float16, bfloat16, float64) as a Float32 `Tensor`,
    /// integer and bool types as `[Int64]`.
    public enum TensorValue: Equatable, Sendable {
        case float32(Tensor)
        case int64([Int64], shape: [Int])

        public var shape: [Int] {
            switch self {
            case .float32(let tensor): return tensor.shape
            case .int64(_, let shape): return shape
            }
        }

        /// The same elements, ready for `SafeTensorsFile.write`.
        public var safeTensorValue: SafeTensorValue {
            switch self {
            case .float32(let tensor): return .float32(tensor)
            case .int64(let values, let shape): return .int64(values, shape: shape)
            }
        }
    }
}

/// A tensor as `torch._utils._rebuild_tensor_v2` describes it: a strided view
/// (`offset`, `shape`, `strides`, all in elements) of a storage.
struct TensorReference {
    var storage: StorageReference
    var offset: Int
    var shape: [Int]
    var strides: [Int]

    /// The number of elements, checked against `limits.tensorElements`
    /// before anything is allocated (zero strides can make a tiny storage
    /// claim billions of elements).
    func elementCount(path: String, name: String, limits: FormatLimits) throws -> Int {
        guard shape.allSatisfy({ $0 >= 0 }), let count = CheckedSize.byteCount(shape, elementSize: 1) else {
            throw FormatError.invalidTensor(path: path, name: name, reason: "size \(shape) is negative or too large")
        }
        try limits.check(.tensorElements, count, path: path, what: "tensor '\(name)' \(describeShape(shape))")
        return count
    }

    /// Copies the view out of `bytes`, the storage's data, after proving that
    /// every element it reaches lies inside the storage: with non-negative
    /// strides the furthest element is offset + Σ (size_i − 1)·stride_i,
    /// computed with overflow checks. `name` is for messages.
    func materialise(_ bytes: UnsafeRawBufferPointer, path: String, name: String,
                     limits: FormatLimits) throws -> PyTorchTensor {
        let dtype = storage.dtype
        let available = bytes.count / dtype.byteSize
        func invalid(_ reason: String) -> FormatError {
            .invalidTensor(path: path, name: name, reason: reason)
        }
        guard shape.count == strides.count else {
            throw invalid("size \(shape) and stride \(strides) differ in rank")
        }
        guard offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            throw invalid("negative offset, size or stride (offset \(offset), size \(shape), stride \(strides))")
        }
        let count = try elementCount(path: path, name: name, limits: limits)
        if count > 0 {
            var last = offset
            for (extent, stride) in zip(shape, strides) {
                guard let step = CheckedSize.product(extent - 1, stride), let sum = CheckedSize.sum(last, step) else {
                    throw invalid("view (offset \(offset), size \(shape), stride \(strides)) overflows")
                }
                last = sum
            }
            guard last < available else {
                throw invalid("view (offset \(offset), size \(shape), stride \(strides)) reaches element \(last) "
                              + "but storage '\(storage.key)' holds \(available) \(dtype.rawValue) elements")
            }
        }
        #if _endian(little)
        if dtype == .float32, count > 0, isContiguous {
            // The common case, one copy of little-endian floats: row-major, no
            // gaps, and (checked above) offset + count ≤ available.
            let start = offset * 4
            let data = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + 4 * count)])
            return PyTorchTensor(dtype: dtype, value: .float32(Tensor(shape: shape, scalars: copyElements(of: Float.self, from: data))))
        }
        #endif
        let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        // An axis of extent 1 never advances, so its stride (which the bound
        // above does not cover) is irrelevant; zero keeps the odometer's sums small.
        let usedStrides = zip(shape, strides).map { $0 == 1 ? 0 : $1 }
        let indices = StridedIndices(offset: offset, shape: shape, strides: usedStrides)
        #if _endian(little)
        if dtype == .float32, count > 0 {
            // Row by row (one copy per row when the last stride is 1): a
            // call per element would be slow in debug builds.
            let inner = shape.last ?? 1, innerStride = usedStrides.last ?? 0
            let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                let target = buffer.baseAddress!
                var written = 0
                indices.forEachRow { start in
                    if innerStride == 1 {
                        UnsafeMutableRawPointer(target + written).copyMemory(from: base + 4 * start, byteCount: 4 * inner)
                    } else {
                        for i in 0..<inner {
                            (target + written + i).initialize(to: Float(bitPattern: base.loadUnaligned(
                                fromByteOffset: 4 * (start + i * innerStride), as: UInt32.self)))
                        }
                    }
                    written += inner
                }
                initialized = written
            }
            return PyTorchTensor(dtype: dtype, value: .float32(Tensor(shape: shape, scalars: scalars)))
        }
        #endif
        if dtype.isFloatingPoint {
            var scalars = [Float](); scalars.reserveCapacity(count)
            indices.forEach { scalars.append(dtype.float(base, $0)) }
            return PyTorchTensor(dtype: dtype, value: .float32(Tensor(shape: shape, scalars: scalars)))
        } else {
            var values = [Int64](); values.reserveCapacity(count)
            indices.forEach { values.append(dtype.integer(base, $0)) }
            return PyTorchTensor(dtype: dtype, value: .int64(values, shape: shape))
        }
    }

    /// Whether the view is row-major without gaps: the last stride is 1 and
    /// each stride is the product of the extents after it (extents of 1 may
    /// have any stride).
    private var isContiguous: Bool {
        var expected = 1
        for (extent, stride) in zip(shape, strides).reversed() where extent != 1 {
            guard stride == expected else { return false }
            expected *= extent
        }
        return true
    }
}

/// The storage indices of a strided view in row-major order.
private struct StridedIndices {
    let offset: Int
    let shape: [Int]
    let strides: [Int]

    func forEach(_ body: (Int) -> Void) {
        let innerExtent = shape.last ?? 1, innerStride = strides.last ?? 0
        forEachRow { rowStart in
            for i in 0..<innerExtent { body(rowStart + i * innerStride) }
        }
    }

    /// Calls `body` with the storage index of the first element of every
    /// row (the last axis), in row-major order; once for a scalar.
    func forEachRow(_ body: (Int) -> Void) {
        guard !shape.contains(0) else { return }
        guard shape.count > 1 else { body(offset); return }
        // Raw pointers for the odometer: array subscripts cost a call each
        // in debug builds, and tensors with short rows have millions of rows.
        let outer = shape.count - 1
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: outer)
        counter.initialize(repeating: 0, count: outer)
        defer { counter.deallocate() }
        shape.withUnsafeBufferPointer { shape in
            strides.withUnsafeBufferPointer { strides in
                var rowStart = offset
                while true {
                    body(rowStart)
                    var axis = outer - 1
                    while axis >= 0 {
                        counter[axis] += 1
                        rowStart += strides[axis]
                        if counter[axis] < shape[axis] { break }
                        rowStart -= strides[axis] * shape[axis]
                        counter[axis] = 0
                        axis -= 1
                    }
                    if axis < 0 { return }
                }
            }
        }
    }
}
