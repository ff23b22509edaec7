import CKernels

/// Vectorised elementwise kernels on raw Float32 buffers.
///
/// Each forwards to a C kernel built for AVX-512, AVX2 + FMA and the x86-64
/// baseline, the best one chosen on first use (`InstructionSet`). None calls
/// libm per element: exp is a range reduction to 2ⁿ·e^r with a degree-6
/// polynomial for e^r (max relative error ≈ 2 ulp on [-87, 88]); tanh and
/// sigmoid are built from it. Every build computes the same bits.
/// Input and output may alias (in-place use is allowed).
public enum Vector {
    /// `y[i] = e^x[i]`; above 88.72 gives +Inf, below -87.34 gives 0, NaN stays NaN.
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        n2n_exp(x, y, count)
    }

    /// `y[i] = tanh(x[i])`, as sign(x)·(1 − t)/(1 + t) with t = e^(−2|x|).
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        n2n_tanh(x, y, count)
    }

    /// `y[i] = 1 / (1 + e^(−x[i]))`.
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        n2n_sigmoid(x, y, count)
    }

    /// Backward of `y = tanh(x)` given `y`: `dx[i] = dy[i] · (1 − y[i]²)`.
    public static func tanhBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                    dx: UnsafeMutablePointer<Float>, count: Int) {
        n2n_tanh_backward(y, dy, dx, count)
    }

    /// `y[i] = x[i] > 0 ? x[i] : slope · x[i]`.
    public static func leakyReLU(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                 count: Int, slope: Float) {
        n2n_leaky_relu(x, y, count, slope)
    }

    /// Backward of leaky ReLU given its output (the sign is preserved for
    /// slope > 0): `dx[i] = y[i] > 0 ? dy[i] : slope · dy[i]`.
    public static func leakyReLUBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                         dx: UnsafeMutablePointer<Float>, count: Int, slope: Float) {
        n2n_leaky_relu_backward(y, dy, dx, count, slope)
    }

    // MARK: reductions and BLAS-1 style helpers

    /// Σ x[i], accumulated in 16 lanes then summed in a fixed order.
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        n2n_sum(x, count)
    }

    /// Σ x[i]², accumulated in Double over blocks of 4096.
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        n2n_sum_of_squares(x, count)
    }

    /// Σ (x[i] − mean)².
    public static func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
        n2n_sum_of_squared_deviations(x, count, mean)
    }

    /// Σ x[i]·y[i].
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        n2n_dot(x, y, count)
    }

    /// Whether all `x[i]` are finite.
    public static func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        n2n_all_finite(x, count) != 0
    }

    /// `y[i] += alpha · x[i]`.
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        n2n_axpy(alpha, x, y, count)
    }

    /// `x[i] *= alpha`.
    public static func scale(_ x: UnsafeMutablePointer<Float>, by alpha: Float, count: Int) {
        n2n_scale(x, x, count, alpha)
    }

    /// `y[i] = (x[i] − mean) · scale`.
    public static func normalize(_ x: UnsafePointer<Float>, mean: Float, scale: Float,
                                 into y: UnsafeMutablePointer<Float>, count: Int) {
        n2n_normalize(x, y, count, mean, scale)
    }

    /// `z[i] = x[i] + y[i]`.
    public static func add(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        n2n_add(x, y, z, count)
    }

    /// `z[i] = x[i] · y[i]`.
    public static func multiply(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int) {
        n2n_multiply(x, y, z, count)
    }

    /// Adds `bias[j]` to every row of the `[rows, columns]` matrix `x` (row stride `ld`).
    public static func addRowVector(_ bias: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>,
                                    rows: Int, columns: Int, ld: Int) {
        for r in 0..<rows { n2n_add(x + r * ld, bias, x + r * ld, columns) }
    }

    /// `out[j] (+)= Σ_r x[r, j]` over the rows of `[rows, columns]` (row stride `ld`).
    public static func columnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int,
                                  into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if !accumulate { out.update(repeating: 0, count: columns) }
        for r in 0..<rows { n2n_add(x + r * ld, out, out, columns) }
    }
}
