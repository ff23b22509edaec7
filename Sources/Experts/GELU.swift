import TensorCore

/// The exact (erf) GELU of BERT, `gelu(x) = ½·x·(1 + erf(x/√2))`, and the
/// vectorised erf it is built on.
///
/// erf is evaluated 8 lanes at a time without libm (N. Juffa's float
/// minimax fits): for |x| ≤ 0.9277, `erf(x) = x + x·p(x²)` with p of degree 5;
/// above, `erf(x) = sign(x)·(1 − e^(q(|x|)))` with q of degree 9, the
/// exponential from `Vector.exp`. Both branches run and a mask selects.
/// Max |error| against Foundation's double erf over [-6, 6]: ≈ 1e-7
/// (measured 7.6e-8 in float, see the tests).
public enum GELU {
    public typealias V = SIMD8<Float>

    /// erf(x) lane-wise.
    @inline(__always)
    public static func erf(_ x: V) -> V {
        let t = x.replacing(with: -x, where: x .< 0)
        let s = x * x
        // |x| > 0.9277: 1 − e^q(t).
        var r = V(repeating: -1.72853470e-5) * t + 3.83197126e-4
        let u = V(repeating: -3.88396438e-3) * t + 2.42546219e-2
        r = r * s + u
        r = r * t - 1.06777877e-1
        r = r * t - 6.34846687e-1
        r = r * t - 1.28717512e-1
        r = r * t - t
        var large = 1 - Vector.exp(r)
        large.replace(with: -large, where: x .< 0)
        // |x| ≤ 0.9277: x + x·p(x²).
        var p = V(repeating: -5.96761703e-4)
        p = p * s + 4.99119423e-3
        p = p * s - 2.67681349e-2
        p = p * s + 1.12819925e-1
        p = p * s - 3.76125336e-1
        p = p * s + 1.28379166e-1
        let small = p * x + x
        return small.replacing(with: large, where: t .> 0.927734375)
    }

    /// gelu(x) lane-wise.
    @inline(__always)
    public static func gelu(_ x: V) -> V {
        0.5 * x * (1 + erf(x * 0.70710678118654752))
    }

    /// `y[i] = erf(x[i])` for `i < count`; x and y may alias.
    public static func erf(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count, erf)
    }

    /// `x[i] ← gelu(x[i])` in place, in parallel chunks when `count` is large.
    public static func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(count: count, minimumChunk: 1 << 14) { range in
            map(x + range.lowerBound, x + range.lowerBound, range.count, gelu)
        }
    }

    @inline(__always)
    private static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int,
                            _ f: (V) -> V) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: f(v), as: V.self)
            i += 8
        }
        if i < count {
            var v = V(repeating: 0)
            for lane in 0..<(count - i) { v[lane] = x[i + lane] }
            let r = f(v)
            for lane in 0..<(count - i) { y[i + lane] = r[lane] }
        }
    }
}
