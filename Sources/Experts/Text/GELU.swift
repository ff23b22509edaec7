import CKernels
import TensorCore

/// The exact (erf) GELU of BERT, `gelu(x) = ½·x·(1 + erf(x/√2))`, and the
/// vectorised erf it is built on (a run-time-dispatched kernel, see
/// `InstructionSet`).
///
/// erf uses N. Juffa's float minimax fits, without libm: for |x| ≤ 0.9277,
/// `erf(x) = x + x·p(x²)` with p of degree 5; above, `erf(x) = sign(x)·(1 − e^(q(|x|)))`
/// with q of degree 9. Both branches run and a mask selects.
/// Max |error| against Foundation's double erf over [-6, 6]: ≈ 1e-7
/// (measured 7.6e-8 in float, see the tests).
public enum GELU {
    /// `y[i] = erf(x[i])` for `i < count`; x and y may alias.
    public static func erf(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        n2n_erf(x, y, count)
    }

    /// `x[i] ← gelu(x[i])` in place, in parallel chunks when `count` is large.
    public static func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(count: count, minimumChunk: 1 << 14) { range in
            n2n_gelu(x + range.lowerBound, x + range.lowerBound, range.count)
        }
    }
}
