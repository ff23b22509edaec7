import Foundation
import TensorCore

/// Reading and writing NumPy `.npy` files (format versions 1.0, 2.0, 3.0).
///
/// Handled dtypes: float32 `'<f4'`, int64 `'<i8'`, uint8 `'|u1'`, C order.
/// Any shape works, including the scalar shape `()` and zero extents
/// (`(0, 384)` reads as an empty array). Bytes after the data are ignored,
/// as `numpy.load` ignores them. Writing produces what `numpy.save` does:
/// version 1.0 (2.0 if the header needs it), data starting at a multiple of
/// 64 bytes, replaced atomically (`AtomicFile`).
public enum NPY {
    /// Reads any supported `.npy` file, refusing headers and arrays above `limits`.
    public static func read(_ url: URL, limits: FormatLimits = .fromEnvironment()) throws -> NPYArray {
        let file = try MappedFile(url)
        return try read(file.bytes, path: file.path, limits: limits)
    }

    /// Decodes the whole-file `bytes`; `path` names the file in errors. The
    /// shape is checked against the limits and the file size before the
    /// elements are copied.
    static func read(_ bytes: UnsafeRawBufferPointer, path: String, limits: FormatLimits) throws -> NPYArray {
        let header = try NPYHeader.parse(bytes, path: path, limits: limits)
        let dtype = header.dtype
        guard let byteCount = CheckedSize.byteCount(header.shape, elementSize: dtype.byteSize) else {
            throw FormatError.malformedHeader(path: path, reason: "shape \(describeShape(header.shape)) is too large")
        }
        let count = byteCount / dtype.byteSize
        try limits.check(.tensorElements, count, path: path, what: "array \(describeShape(header.shape))")
        let available = bytes.count - header.dataOffset
        guard byteCount <= available else {
            throw FormatError.truncated(
                path: path,
                reason: "header says \(describeShape(header.shape)) \(dtype.name) (\(byteCount) bytes) "
                    + "but only \(available) bytes of data")
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[header.dataOffset..<(header.dataOffset + byteCount)])
        let storage: NPYArray.Storage
        switch dtype {
        case .float32: storage = .float32(copyElements(of: Float.self, from: data))
        case .int64: storage = .int64(copyElements(of: Int64.self, from: data))
        case .uint8: storage = .uint8(copyElements(of: UInt8.self, from: data))
        }
        return NPYArray(shape: header.shape, storage: storage)
    }

    /// Reads a float32 `.npy` file as a tensor; any other dtype is an error
    /// naming the file.
    public static func readFloat32(_ url: URL, limits: FormatLimits = .fromEnvironment()) throws -> Tensor {
        let array = try read(url, limits: limits)
        guard case .float32(let scalars) = array.storage else {
            let dtype = array.storage.dtype
            throw FormatError.wrongDType(
                path: displayPath(url), tensor: nil,
                found: "\(dtype.name) '\(dtype.descr)'", expected: "float32 '<f4'")
        }
        return Tensor(shape: array.shape, scalars: scalars)
    }

    /// Writes `array` atomically.
    public static func write(_ array: NPYArray, to url: URL) throws {
        let header = NPYHeader.encode(dtype: array.storage.dtype, shape: array.shape)
        try AtomicFile.write(to: url) { writer in
            try writer.write(contentsOf: header)
            switch array.storage {
            case .float32(let values): try writer.write(contentsOf: values)
            case .int64(let values): try writer.write(contentsOf: values)
            case .uint8(let values): try writer.write(contentsOf: values)
            }
        }
    }

    /// Writes a tensor as float32 `'<f4'`.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        try write(NPYArray(tensor), to: url)
    }

    /// Writes `int64` as `'<i8'` with `shape` (whose product must equal the count).
    public static func write(int64 values: [Int64], shape: [Int], to url: URL) throws {
        try write(NPYArray(shape: shape, storage: .int64(values)), to: url)
    }

    /// Writes `uint8` as `'|u1'` with `shape` (e.g. images `[N, H, W, C]`).
    public static func write(uint8 values: [UInt8], shape: [Int], to url: URL) throws {
        try write(NPYArray(shape: shape, storage: .uint8(values)), to: url)
    }
}
