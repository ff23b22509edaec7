import TensorCore

/// An array read from or written to a `.npy` file: a row-major shape and
/// typed elements, `storage.count == shape.product` (1 for the scalar shape `[]`).
public struct NPYArray: Equatable, Sendable {
    /// The elements, in the dtypes this package reads and writes.
    public enum Storage: Equatable, Sendable {
        /// `'<f4'`
        case float32([Float])
        /// `'<i8'`
        case int64([Int64])
        /// `'|u1'` (also read as `'<u1'`)
        case uint8([UInt8])

        /// The number of elements.
        public var count: Int {
            switch self {
            case .float32(let values): return values.count
            case .int64(let values): return values.count
            case .uint8(let values): return values.count
            }
        }

        var dtype: NPYDType {
            switch self {
            case .float32: return .float32
            case .int64: return .int64
            case .uint8: return .uint8
            }
        }
    }

    public var shape: [Int]
    public var storage: Storage

    /// An array of `shape`; `storage.count` must equal the product of `shape`.
    public init(shape: [Int], storage: Storage) {
        precondition(shape.allSatisfy { $0 >= 0 } && storage.count == Tensor.elementCount(shape),
                     "shape \(shape) needs \(Tensor.elementCount(shape)) elements, got \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    /// A float32 array with the tensor's shape and elements.
    public init(_ tensor: Tensor) {
        self.init(shape: tensor.shape, storage: .float32(tensor.scalars))
    }
}

/// The element types of `.npy` files this package handles, all little-endian.
enum NPYDType: CaseIterable {
    case float32, int64, uint8

    /// The `descr` NumPy writes for this type.
    var descr: String {
        switch self {
        case .float32: return "<f4"
        case .int64: return "<i8"
        case .uint8: return "|u1"
        }
    }

    var name: String {
        switch self {
        case .float32: return "float32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        }
    }

    var byteSize: Int {
        switch self {
        case .float32: return 4
        case .int64: return 8
        case .uint8: return 1
        }
    }

    /// The type for a header `descr`; single bytes have no byte order, so
    /// `'<u1'`, `'>u1'` and `'=u1'` mean the same as `'|u1'`.
    init?(descr: String) {
        switch descr {
        case "<f4": self = .float32
        case "<i8": self = .int64
        case "|u1", "<u1", ">u1", "=u1": self = .uint8
        default: return nil
        }
    }

    /// For messages: `float32 '<f4', int64 '<i8', uint8 '|u1'`.
    static var supportedList: String {
        allCases.map { "\($0.name) '\($0.descr)'" }.joined(separator: ", ")
    }
}
