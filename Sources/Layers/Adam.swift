import CKernels
import Foundation
import TensorCore

/// Adam (Kingma & Ba) with the AMSGrad variant, over one flat parameter
/// buffer, fused into a single multi-threaded pass.
///
/// For step t (1-based), gradient g (scaled by `gradientScale`):
/// ```
/// m ← β₁m + (1 − β₁)g
/// v ← β₂v + (1 − β₂)g²
/// v̂ ← max(v̂, v)                      (AMSGrad; v̂ = v without it)
/// p ← p − lr/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
/// ```
/// which is exactly PyTorch's `Adam(amsgrad=True)`. Defaults are the
/// reference's betas (0.5, 0.9).
public final class Adam {
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public let amsgrad: Bool
    /// Steps taken so far.
    public var step: Int = 0
    /// First and second moments and the running maximum of the second.
    public let firstMoment: FloatBuffer
    public let secondMoment: FloatBuffer
    public let maxSecondMoment: FloatBuffer
    /// Per-chunk partial sums of g², so that an update allocates nothing.
    private var partialSums = [Double](repeating: 0, count: 64)

    public init(parameterCount: Int, beta1: Float = 0.5, beta2: Float = 0.9,
                epsilon: Float = 1e-8, amsgrad: Bool = true) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        firstMoment = FloatBuffer(count: parameterCount)
        secondMoment = FloatBuffer(count: parameterCount)
        maxSecondMoment = FloatBuffer(count: amsgrad ? parameterCount : 0)
    }

    /// Applies one update to `parameters` from `gradients` with learning rate
    /// `learningRate`; the gradient is multiplied by `gradientScale` first
    /// (for clipping). Returns Σg² of the unscaled gradient, computed in the
    /// same pass (for logging and NaN detection).
    @discardableResult
    public func update(parameters: FloatBuffer, gradients: FloatBuffer,
                       learningRate: Float, gradientScale: Float = 1) -> Double {
        precondition(parameters.count == gradients.count && parameters.count == firstMoment.count)
        step += 1
        let t = Double(step)
        let bias1 = 1 - Foundation.pow(Double(beta1), t)
        let bias2 = 1 - Foundation.pow(Double(beta2), t)
        let stepSize = Float(Double(learningRate) / bias1)
        let inverseSqrtBias2 = Float(1 / bias2.squareRoot())
        let count = parameters.count
        let chunks = Parallel.chunkCount(count: count, minimumChunk: 1 << 16)
        if partialSums.count < chunks { partialSums = [Double](repeating: 0, count: chunks) }
        let p = parameters.pointer, g = gradients.pointer
        let m = firstMoment.pointer, v = secondMoment.pointer
        let vmax = amsgrad ? maxSecondMoment.pointer : secondMoment.pointer
        let (b1, b2, eps, scale, ams) = (beta1, beta2, epsilon, gradientScale, amsgrad)
        return partialSums.withUnsafeMutableBufferPointer { partial in
            let partialBase = partial.baseAddress!
            Parallel.forEachChunkIndexed(count: count, minimumChunk: 1 << 16) { chunk, range in
                partialBase[chunk] = Adam.kernel(p: p, g: g, m: m, v: v, vmax: vmax, range: range,
                                                 b1: b1, b2: b2, eps: eps, stepSize: stepSize,
                                                 inverseSqrtBias2: inverseSqrtBias2, scale: scale, amsgrad: ams)
            }
            var total = 0.0
            for chunk in 0..<chunks { total += partialBase[chunk] }
            return total
        }
    }

    /// One update of `range`: `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
    /// `v̂ ← max(v̂, v)` (AMSGrad), `p ← p − stepSize·m / (√v̂·inverseSqrtBias2 + ε)`,
    /// with `g` the gradient times `scale`; returns Σ raw g² (a run-time-dispatched kernel).
    @inline(__always)
    static func kernel(p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>,
                       m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                       vmax: UnsafeMutablePointer<Float>, range: Range<Int>,
                       b1: Float, b2: Float, eps: Float, stepSize: Float,
                       inverseSqrtBias2: Float, scale: Float, amsgrad: Bool) -> Double {
        let i = range.lowerBound
        return n2n_adam(p + i, g + i, m + i, v + i, vmax + i, range.count, b1, b2, eps, stepSize,
                        inverseSqrtBias2, scale, amsgrad ? 1 : 0)
    }
}
