import TensorCore

/// Row-wise LayerNorm with a fused residual add, as BERT's post-LN blocks use it:
/// `y = γ ⊙ (z − μ) / √(σ² + ε) + β` with `z = x + residual`, μ and σ² the
/// mean and (biased) variance of each row of z.
///
/// Shapes: x, residual and y `[rows, width]`, contiguous; γ, β `[width]`.
/// `y` may alias `x` or `residual`. Rows run in parallel when there are many.
enum LayerNormalization {
    static func apply(_ x: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
                      gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float,
                      rows: Int, width: Int, into y: UnsafeMutablePointer<Float>) {
        precondition(width % 8 == 0, "LayerNormalization needs a width that is a multiple of 8")
        typealias V = SIMD8<Float>
        Parallel.forEachChunk(count: rows, minimumChunk: 32) { range in
            for row in range {
                let xr = x + row * width, yr = y + row * width
                let rr = residual.map { $0 + row * width }
                // z = x + residual, kept in y; sum for the mean.
                var sum = V(repeating: 0)
                var i = 0
                while i < width {
                    var z = UnsafeRawPointer(xr + i).loadUnaligned(as: V.self)
                    if let rr { z += UnsafeRawPointer(rr + i).loadUnaligned(as: V.self) }
                    UnsafeMutableRawPointer(yr + i).storeBytes(of: z, as: V.self)
                    sum += z
                    i += 8
                }
                let mean = sum.sum() / Float(width)
                var squares = V(repeating: 0)
                i = 0
                while i < width {
                    let d = UnsafeRawPointer(yr + i).loadUnaligned(as: V.self) - mean
                    squares += d * d
                    i += 8
                }
                let inverse = 1 / (squares.sum() / Float(width) + epsilon).squareRoot()
                i = 0
                while i < width {
                    let d = UnsafeRawPointer(yr + i).loadUnaligned(as: V.self) - mean
                    let g = UnsafeRawPointer(gamma + i).loadUnaligned(as: V.self)
                    let b = UnsafeRawPointer(beta + i).loadUnaligned(as: V.self)
                    UnsafeMutableRawPointer(yr + i).storeBytes(of: d * inverse * g + b, as: V.self)
                    i += 8
                }
            }
        }
    }
}
