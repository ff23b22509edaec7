/// 8-lane loops for the elementwise training kernels (activations,
/// BatchNorm): each applies a lane-wise function to contiguous runs, with the
/// tail padded into one partial vector, so results do not depend on alignment.
enum SIMDLoop {
    typealias V = SIMD8<Float>
    static let width = 8

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> V {
        UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
    }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V.self)
    }

    /// Lanes `0..<n` from `p + i`, the rest `fill`.
    @inline(__always)
    static func loadTail(_ p: UnsafePointer<Float>, _ i: Int, _ n: Int, fill: Float = 0) -> V {
        var v = V(repeating: fill)
        for lane in 0..<n { v[lane] = p[i + lane] }
        return v
    }

    @inline(__always)
    static func storeTail(_ v: V, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) {
        for lane in 0..<n { p[i + lane] = v[lane] }
    }

    /// `y[i] = f(x[i])`; `y` may alias `x`.
    @inline(__always)
    static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int, _ f: (V) -> V) {
        var i = 0
        while i + width <= count { store(f(load(x, i)), y, i); i += width }
        if i < count { storeTail(f(loadTail(x, i, count - i)), y, i, count - i) }
    }

    /// `z[i] = f(x[i], y[i])`; `z` may alias either input.
    @inline(__always)
    static func map2(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
                     _ count: Int, _ f: (V, V) -> V) {
        var i = 0
        while i + width <= count { store(f(load(x, i), load(y, i)), z, i); i += width }
        if i < count {
            let n = count - i
            storeTail(f(loadTail(x, i, n), loadTail(y, i, n)), z, i, n)
        }
    }

    /// `Σ f(x[i])` over lanes, summed in a fixed order; the tail is padded
    /// with `fill`, and `f(fill)` must be 0.
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, _ count: Int, fill: Float = 0, _ f: (V) -> V) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + width <= count { acc += f(load(x, i)); i += width }
        if i < count { acc += f(loadTail(x, i, count - i, fill: fill)) }
        return acc.sum()
    }

    /// `Σ f(x[i], y[i])`; `f(0, 0)` must be 0.
    @inline(__always)
    static func sum2(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int, _ f: (V, V) -> V) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + width <= count { acc += f(load(x, i), load(y, i)); i += width }
        if i < count { acc += f(loadTail(x, i, count - i), loadTail(y, i, count - i)) }
        return acc.sum()
    }
}
