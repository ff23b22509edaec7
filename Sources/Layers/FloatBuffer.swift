import TensorCore

/// A fixed-size, 64-byte-aligned, zero-initialised Float32 buffer with
/// reference semantics.
///
/// Models, gradients, optimiser moments and workspaces live in these, so
/// that hot loops work on stable pointers and never allocate. Copy
/// explicitly with `copy()`.
public final class FloatBuffer: @unchecked Sendable {
    /// The first element; valid for `count` elements until deinit.
    public let pointer: UnsafeMutablePointer<Float>
    /// The number of elements.
    public let count: Int

    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }

    /// A buffer holding a copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    /// An independent copy.
    public func copy() -> FloatBuffer {
        let other = FloatBuffer(count: count)
        other.pointer.update(from: pointer, count: count)
        return other
    }

    /// Whether every element is finite (`Vector.allFinite`: one vectorised pass).
    public var isFinite: Bool { Vector.allFinite(pointer, count: count) }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// Element `i`.
    @inline(__always)
    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    /// The elements `range` as an array.
    public func array(_ range: Range<Int>? = nil) -> [Float] {
        let r = range ?? 0..<count
        return Array(UnsafeBufferPointer(start: pointer + r.lowerBound, count: r.count))
    }

    /// Copies `source` into elements starting at `offset`.
    public func assign(_ source: [Float], at offset: Int = 0) {
        precondition(offset + source.count <= count)
        source.withUnsafeBufferPointer { (pointer + offset).update(from: $0.baseAddress!, count: source.count) }
    }
}
