/// Vectorised elementwise kernels on raw Float32 buffers.
///
/// Every kernel works on 8 lanes at a time (`SIMD8<Float>`, AVX2 with
/// `-march=x86-64-v3`) and never calls libm per element: exp is a range
/// reduction to 2ⁿ·e^r with a degree-6 polynomial for e^r (max relative
/// error ≈ 2 ulp on [-87, 88]); tanh and sigmoid are built from it.
/// Input and output may alias (in-place use is allowed).
public enum Vector {
    public typealias V = SIMD8<Float>
    @usableFromInline static let lanes = 8

    @inline(__always) @usableFromInline
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> V {
        UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
    }

    @inline(__always) @usableFromInline
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V.self)
    }

    /// Loads the last `n < 8` elements at `p + i` into lanes 0..<n; other lanes get `fill`.
    @inline(__always) @usableFromInline
    static func loadTail(_ p: UnsafePointer<Float>, _ i: Int, _ n: Int, fill: Float = 0) -> V {
        var v = V(repeating: fill)
        for lane in 0..<n { v[lane] = p[i + lane] }
        return v
    }

    @inline(__always) @usableFromInline
    static func storeTail(_ v: V, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) {
        for lane in 0..<n { p[i + lane] = v[lane] }
    }

    /// Applies `f` lane-wise: `y[i] = f(x[i])` for `i < count`.
    @inline(__always) @usableFromInline
    static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int,
                    _ f: (V) -> V) {
        var i = 0
        while i + lanes <= count {
            store(f(load(x, i)), y, i)
            i += lanes
        }
        if i < count { storeTail(f(loadTail(x, i, count - i)), y, i, count - i) }
    }

    /// Applies `f` lane-wise to two inputs: `z[i] = f(x[i], y[i])`.
    @inline(__always) @usableFromInline
    static func map2(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
                     _ count: Int, _ f: (V, V) -> V) {
        var i = 0
        while i + lanes <= count {
            store(f(load(x, i), load(y, i)), z, i)
            i += lanes
        }
        if i < count {
            let n = count - i
            storeTail(f(loadTail(x, i, n), loadTail(y, i, n)), z, i, n)
        }
    }

    // MARK: exp, tanh, sigmoid

    /// e^x lane-wise. Inputs above 88.72 give +Inf, below -87.33 give 0; NaN stays NaN.
    @inline(__always) @inlinable
    public static func exp(_ x: V) -> V {
        let log2e: Float = 1.44269504088896341
        let ln2High: Float = 0.693359375
        let ln2Low: Float = -2.12194440e-4
        let magic: Float = 12582912  // 1.5 · 2²³: adding it rounds to an integer in the low mantissa bits
        // SIMD's generic clamped(lowerBound:upperBound:) is not specialised (≈10× slower); select instead.
        var clamped = x.replacing(with: -87.33654, where: x .< -87.33654)
        clamped.replace(with: 88.72283, where: clamped .> 88.72283)
        let shifted = clamped * log2e + magic
        let n = shifted - magic
        var r = clamped - n * ln2High
        r = r - n * ln2Low
        // e^r on |r| ≤ ln2/2: Taylor-like minimax coefficients (Cephes expf).
        var p = V(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        // 2ⁿ from the integer held in the low bits of `shifted`, applied as
        // 2^⌊n/2⌋ · 2^(n−⌊n/2⌋): n reaches 128 for x ≥ 88.38, which one
        // exponent field cannot hold (it would read as +Inf).
        let nBits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(V(repeating: magic), to: SIMD8<Int32>.self)
        let nHalf = nBits &>> 1
        let twoNHalf = unsafeBitCast((nHalf &+ 127) &<< 23, to: V.self)
        let twoNRest = unsafeBitCast((nBits &- nHalf &+ 127) &<< 23, to: V.self)
        var result = p * twoNHalf * twoNRest
        result.replace(with: V(repeating: .infinity), where: x .> 88.72283)
        result.replace(with: V(repeating: 0), where: x .< -87.33654)
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// tanh(x) lane-wise, as sign(x)·(1 − t)/(1 + t) with t = e^(−2|x|).
    @inline(__always) @inlinable
    public static func tanh(_ x: V) -> V {
        let a = x.replacing(with: -x, where: x .< 0)
        let t = exp(-2 * a)
        var y = (1 - t) / (1 + t)
        // Odd Taylor series near 0 keeps the relative error small there.
        let x2 = x * x
        var poly = V(repeating: -17.0 / 315)
        poly = poly * x2 + 2.0 / 15
        poly = poly * x2 - 1.0 / 3
        poly = poly * x2 + 1
        let series = x * poly
        y.replace(with: -y, where: x .< 0)
        y.replace(with: series, where: a .< 0.0625)
        return y
    }

    /// The logistic sigmoid 1 / (1 + e^(−x)) lane-wise.
    @inline(__always) @inlinable
    public static func sigmoid(_ x: V) -> V {
        1 / (1 + exp(-x))
    }

    /// `y[i] = e^x[i]`.
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count) { exp($0) }
    }

    /// `y[i] = tanh(x[i])`.
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count) { tanh($0) }
    }

    /// `y[i] = sigmoid(x[i])`.
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count) { sigmoid($0) }
    }

    /// Backward of `y = tanh(x)` given `y`: `dx[i] = dy[i] · (1 − y[i]²)`.
    public static func tanhBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                    dx: UnsafeMutablePointer<Float>, count: Int) {
        map2(y, dy, dx, count) { y, dy in dy * (1 - y * y) }
    }

    // MARK: leaky ReLU

    /// `y[i] = x[i] > 0 ? x[i] : slope · x[i]`.
    public static func leakyReLU(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                 count: Int, slope: Float) {
        map(x, y, count) { x in x.replacing(with: x * slope, where: x .< 0) }
    }

    /// Backward of leaky ReLU given its output (the sign is preserved for
    /// slope > 0): `dx[i] = y[i] > 0 ? dy[i] : slope · dy[i]`.
    public static func leakyReLUBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                         dx: UnsafeMutablePointer<Float>, count: Int, slope: Float) {
        map2(y, dy, dx, count) { y, dy in dy.replacing(with: dy * slope, where: y .<= 0) }
    }

    // MARK: reductions and BLAS-1 style helpers

    /// Σ x[i], accumulated in 8 lanes then summed in a fixed order.
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + lanes <= count { acc += load(x, i); i += lanes }
        if i < count { acc += loadTail(x, i, count - i) }
        return acc.sum()
    }

    /// Σ x[i]², accumulated in Double for long vectors.
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        var start = 0
        while start < count {
            let n = min(4096, count - start)
            var acc = V(repeating: 0)
            var i = 0
            let p = x + start
            while i + lanes <= n { let v = load(p, i); acc += v * v; i += lanes }
            if i < n { let v = loadTail(p, i, n - i); acc += v * v }
            total += Double(acc.sum())
            start += n
        }
        return total
    }

    /// Whether all `x[i]` are finite.
    public static func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        var acc = V(repeating: 0)
        var i = 0
        while i + lanes <= count { acc += load(x, i) * 0; i += lanes }
        if i < count { acc += loadTail(x, i, count - i) * 0 }
        return acc.sum() == 0
    }

    /// `y[i] += alpha · x[i]`.
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map2(x, y, y, count) { x, y in y + alpha * x }
    }

    /// `x[i] *= alpha`.
    public static func scale(_ x: UnsafeMutablePointer<Float>, by alpha: Float, count: Int) {
        map(x, x, count) { $0 * alpha }
    }

    /// `z[i] = x[i] + y[i]`.
    public static func add(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        map2(x, y, z, count) { $0 + $1 }
    }

    /// `z[i] = x[i] · y[i]`.
    public static func multiply(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        map2(x, y, z, count) { $0 * $1 }
    }

    /// Adds `bias[j]` to every row of the `[rows, columns]` matrix `x` (row stride `ld`).
    public static func addRowVector(_ bias: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>,
                                    rows: Int, columns: Int, ld: Int) {
        for r in 0..<rows { map2(x + r * ld, bias, x + r * ld, columns) { $0 + $1 } }
    }

    /// `out[j] (+)= Σ_r x[r, j]` over the rows of `[rows, columns]` (row stride `ld`).
    public static func columnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int,
                                  into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if !accumulate { out.update(repeating: 0, count: columns) }
        for r in 0..<rows { map2(x + r * ld, out, out, columns) { $0 + $1 } }
    }
}
