import CKernels
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
        Parallel.forEachChunk(count: rows, minimumChunk: 32) { range in
            let offset = range.lowerBound * width
            n2n_layer_norm(x + offset, residual.map { $0 + offset }, gamma, beta, epsilon, range.count, width, y + offset)
        }
    }
}
