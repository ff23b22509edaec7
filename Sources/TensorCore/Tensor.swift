import Foundation

/// A dense Float32 tensor in row-major order.
///
/// `Tensor` is a value type: copies share storage until one of them is
/// mutated (copy-on-write, inherited from `Array`). Vectors of a batch are
/// `[batch, features]`; images are NCHW.
public struct Tensor: Equatable, Sendable {
    /// The extent of each axis; the last axis is contiguous.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.product`.
    public var scalars: [Float]

    /// Creates a tensor from its elements. `scalars.count` must equal the
    /// product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        precondition(
            scalars.count == Tensor.elementCount(shape),
            "shape \(shape) needs \(Tensor.elementCount(shape)) elements, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of the given shape filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: Tensor.elementCount(shape)))
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(repeating: 0, shape: shape)
    }

    /// The number of elements.
    public var count: Int { scalars.count }

    /// The number of axes.
    public var rank: Int { shape.count }

    /// The product of the extents of `shape` (1 for a scalar shape `[]`).
    public static func elementCount(_ shape: [Int]) -> Int {
        shape.reduce(1, *)
    }

    /// The same elements viewed with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Element `[row, column]` of a rank-2 tensor.
    public subscript(row: Int, column: Int) -> Float {
        get {
            precondition(rank == 2, "2-D subscript on a tensor of shape \(shape)")
            return scalars[row * shape[1] + column]
        }
        set {
            precondition(rank == 2, "2-D subscript on a tensor of shape \(shape)")
            scalars[row * shape[1] + column] = newValue
        }
    }

    /// Rows `range` of the leading axis, as a new tensor.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "rows \(range) out of bounds for shape \(shape)")
        let stride = shape.count > 1 ? Tensor.elementCount(Array(shape[1...])) : 1
        var newShape = shape
        newShape[0] = range.count
        return Tensor(shape: newShape,
                      scalars: Array(scalars[(range.lowerBound * stride)..<(range.upperBound * stride)]))
    }

    /// Rows picked by `indices` along the leading axis, in that order.
    public func gatherRows(_ indices: [Int]) -> Tensor {
        precondition(rank >= 1)
        let stride = shape.count > 1 ? Tensor.elementCount(Array(shape[1...])) : 1
        var out = [Float](repeating: 0, count: indices.count * stride)
        scalars.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                for (r, index) in indices.enumerated() {
                    precondition(index >= 0 && index < shape[0], "row \(index) out of bounds for shape \(shape)")
                    (destination.baseAddress! + r * stride)
                        .update(from: source.baseAddress! + index * stride, count: stride)
                }
            }
        }
        var newShape = shape
        newShape[0] = indices.count
        return Tensor(shape: newShape, scalars: out)
    }

    /// Calls `body` with a pointer to the contiguous elements.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with a mutable pointer to the contiguous elements.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// Whether every element is finite (no NaN, no ±Inf).
    public var isFinite: Bool {
        scalars.withUnsafeBufferPointer { Vector.allFinite($0.baseAddress!, count: $0.count) }
    }

    /// Joins tensors along the leading axis; trailing shapes must agree.
    public static func concatenateRows(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty)
        let trailing = Array(parts[0].shape.dropFirst())
        var all = [Float]()
        all.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        var rows = 0
        for part in parts {
            precondition(Array(part.shape.dropFirst()) == trailing, "cannot join \(part.shape) with trailing \(trailing)")
            all += part.scalars
            rows += part.shape[0]
        }
        return Tensor(shape: [rows] + trailing, scalars: all)
    }
}

/// The transpose of a row-major `[rows, columns]` matrix, as `[columns, rows]`.
public func transposeMatrix(_ values: [Float], rows: Int, columns: Int) -> [Float] {
    precondition(values.count == rows * columns, "\(values.count) values are not a \(rows)×\(columns) matrix")
    var result = [Float](repeating: 0, count: values.count)
    values.withUnsafeBufferPointer { source in
        result.withUnsafeMutableBufferPointer { destination in
            for r in 0..<rows { for c in 0..<columns { destination[c * rows + r] = source[r * columns + c] } }
        }
    }
    return result
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape): [\(preview)\(count > 8 ? ", …" : "")])"
    }
}
