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
/// p ← p · decay                        (decoupled weight decay, AdamW; decay 1 = none;
///                                       not in `undecayedRanges`)
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
    /// Parameter ranges that weight decay leaves alone (sorted, disjoint):
    /// biases and normalisation parameters, as AdamW is usually applied
    /// (`ParameterLayout.vectorRanges`). Empty: decay reaches every parameter.
    public var undecayedRanges: [Range<Int>] = [] {
        didSet { precondition(zip(undecayedRanges, undecayedRanges.dropFirst()).allSatisfy { $0.upperBound <= $1.lowerBound },
                              "undecayed ranges must be sorted and disjoint") }
    }

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
                       learningRate: Float, gradientScale: Float = 1, decay: Float = 1) -> Double {
        let update = beginStep(parameters: parameters, gradients: gradients, learningRate: learningRate,
                               gradientScale: gradientScale, decay: decay)
        update.apply(0..<parameters.count)
        return update.squaredGradientSum
    }

    /// Starts step t + 1 and returns it, to be applied range by range: a
    /// training pass can update each layer as soon as its gradient is final,
    /// while it is still in cache (`ConditionalFlow.lossAndGradient(applying:)`).
    /// Every element must be covered by exactly one `apply` before the next step.
    /// `decay` multiplies every updated parameter outside `undecayedRanges`
    /// (decoupled weight decay: 1 − lr·weight_decay), in the same pass.
    public func beginStep(parameters: FloatBuffer, gradients: FloatBuffer,
                          learningRate: Float, gradientScale: Float = 1, decay: Float = 1) -> Step {
        precondition(parameters.count == gradients.count && parameters.count == firstMoment.count)
        step += 1
        let t = Double(step)
        let bias1 = 1 - Foundation.pow(Double(beta1), t)
        let bias2 = 1 - Foundation.pow(Double(beta2), t)
        return Step(parameters: parameters.pointer, gradients: gradients.pointer, firstMoment: firstMoment.pointer,
                    secondMoment: secondMoment.pointer,
                    maxSecondMoment: amsgrad ? maxSecondMoment.pointer : secondMoment.pointer,
                    beta1: beta1, beta2: beta2, epsilon: epsilon,
                    stepSize: Float(Double(learningRate) / bias1),
                    inverseSqrtBias2: Float(1 / bias2.squareRoot()), gradientScale: gradientScale,
                    amsgrad: amsgrad, decay: decay, undecayed: decay == 1 ? [] : undecayedRanges)
    }

    /// One optimiser step with its constants fixed (t, the bias corrections,
    /// the learning rate), applied to ranges of the flat buffers. Ranges may
    /// be applied from different threads at once; each element's arithmetic
    /// is the same as `update`'s, so the result does not depend on how the
    /// buffer is cut.
    public final class Step: @unchecked Sendable {
        let p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>
        let m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, vmax: UnsafeMutablePointer<Float>
        let b1: Float, b2: Float, eps: Float, stepSize: Float, inverseSqrtBias2: Float, scale: Float, decay: Float
        let amsgrad: Bool
        let undecayed: [Range<Int>]
        private let lock = NSLock()
        private var total = 0.0

        init(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>,
             firstMoment: UnsafeMutablePointer<Float>, secondMoment: UnsafeMutablePointer<Float>,
             maxSecondMoment: UnsafeMutablePointer<Float>, beta1: Float, beta2: Float, epsilon: Float,
             stepSize: Float, inverseSqrtBias2: Float, gradientScale: Float, amsgrad: Bool, decay: Float,
             undecayed: [Range<Int>]) {
            p = parameters; g = gradients; m = firstMoment; v = secondMoment; vmax = maxSecondMoment
            b1 = beta1; b2 = beta2; eps = epsilon
            self.stepSize = stepSize; self.inverseSqrtBias2 = inverseSqrtBias2; scale = gradientScale
            self.amsgrad = amsgrad
            self.decay = decay
            self.undecayed = undecayed
        }

        /// Σg² (unscaled) over every range applied so far.
        public var squaredGradientSum: Double {
            lock.lock(); defer { lock.unlock() }
            return total
        }

        /// Updates the parameters in `range`: split over the compute threads,
        /// or on the calling thread alone inside a parallel region.
        public func apply(_ range: Range<Int>) {
            apply(range, gradients: g + range.lowerBound)
        }

        /// Updates the parameters in `range` from gradients held elsewhere:
        /// `gradients[i − range.lowerBound]` is element i's (for a gradient
        /// computed into a small scratch buffer that stays in cache).
        public func apply(_ range: Range<Int>, gradients: UnsafePointer<Float>) {
            let g = gradients - range.lowerBound
            // Cut at the undecayed ranges: each piece gets its own decay factor.
            var position = range.lowerBound
            for kept in undecayed where kept.upperBound > position && kept.lowerBound < range.upperBound {
                let start = max(kept.lowerBound, position), end = min(kept.upperBound, range.upperBound)
                if start > position { applyPiece(position..<start, gradients: g, decay: decay) }
                applyPiece(start..<end, gradients: g, decay: 1)
                position = end
            }
            if position < range.upperBound { applyPiece(position..<range.upperBound, gradients: g, decay: decay) }
        }

        /// Updates `range`, `g[i]` being element i's gradient, multiplying by `decay`.
        private func applyPiece(_ range: Range<Int>, gradients g: UnsafePointer<Float>, decay: Float) {
            let chunks = Parallel.chunkCount(count: range.count, minimumChunk: 1 << 16)
            let sum: Double = withUnsafeTemporaryAllocation(of: Double.self, capacity: chunks) { partial in
                Parallel.forEachChunkIndexed(count: range.count, minimumChunk: 1 << 16) { chunk, local in
                    partial[chunk] = Adam.kernel(p: p, g: g, m: m, v: v, vmax: vmax,
                                                 range: (range.lowerBound + local.lowerBound)..<(range.lowerBound + local.upperBound),
                                                 b1: b1, b2: b2, eps: eps, stepSize: stepSize,
                                                 inverseSqrtBias2: inverseSqrtBias2, scale: scale, amsgrad: amsgrad,
                                                 decay: decay)
                }
                var sum = 0.0
                for chunk in 0..<chunks { sum += partial[chunk] }
                return sum
            }
            lock.lock()
            total += sum
            lock.unlock()
        }
    }

    /// One update of `range`: `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
    /// `v̂ ← max(v̂, v)` (AMSGrad), `p ← p − stepSize·m / (√v̂·inverseSqrtBias2 + ε)`,
    /// with `g` the gradient times `scale`; returns Σ raw g² (a run-time-dispatched kernel).
    @inline(__always)
    static func kernel(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                       m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                       vmax: UnsafeMutablePointer<Float>, range: Range<Int>,
                       b1: Float, b2: Float, eps: Float, stepSize: Float,
                       inverseSqrtBias2: Float, scale: Float, amsgrad: Bool, decay: Float) -> Double {
        let i = range.lowerBound
        return n2n_adam(p + i, g + i, m + i, v + i, vmax + i, range.count, b1, b2, eps, stepSize,
                        inverseSqrtBias2, scale, amsgrad ? 1 : 0, decay)
    }
}
