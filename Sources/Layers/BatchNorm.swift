/// Batch normalisation over the batch axis of `[B, C]` features
/// (PyTorch `BatchNorm1d`).
///
/// Training: `y = γ·(x − μ_B)/√(σ²_B + ε) + β` with the biased batch
/// variance; running statistics are updated as
/// `r ← (1 − momentum)·r + momentum·stat`, using the unbiased variance for
/// `running_var`, as PyTorch does. Evaluation uses the running statistics.
/// γ (`weight`) and β (`bias`) are parameters; `running_mean` and
/// `running_var` are buffers (saved, not trained).
public struct BatchNorm: Sendable, Equatable {
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    public let weightOffset: Int
    public let biasOffset: Int
    /// Offsets in the buffer (non-trainable state) storage.
    public let runningMeanOffset: Int
    public let runningVarianceOffset: Int

    public init(_ name: String, channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1,
                parameters: inout ParameterLayout, buffers: inout ParameterLayout) {
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        weightOffset = parameters.add("\(name).weight", shape: [channels])
        biasOffset = parameters.add("\(name).bias", shape: [channels])
        runningMeanOffset = buffers.add("\(name).running_mean", shape: [channels])
        runningVarianceOffset = buffers.add("\(name).running_var", shape: [channels])
    }

    /// γ = 1, β = 0, running mean 0, running variance 1.
    public func initialize(_ parameters: UnsafeMutablePointer<Float>, buffers: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            parameters[weightOffset + c] = 1
            parameters[biasOffset + c] = 0
            buffers[runningMeanOffset + c] = 0
            buffers[runningVarianceOffset + c] = 1
        }
    }

    /// Training forward on contiguous `[B, C]`. Saves x̂ `[B, C]` and
    /// 1/√(σ²+ε) `[C]` for `backward`; updates the running statistics when
    /// `updateRunningStatistics`.
    public func forwardTraining(_ x: UnsafePointer<Float>, batch: Int,
                                parameters: UnsafePointer<Float>, buffers: UnsafeMutablePointer<Float>,
                                updateRunningStatistics: Bool,
                                normalized: UnsafeMutablePointer<Float>, inverseStd: UnsafeMutablePointer<Float>,
                                into y: UnsafeMutablePointer<Float>) {
        let C = channels
        let B = batch
        precondition(B > 1, "BatchNorm in training needs more than one sample per batch")
        for c in 0..<C {
            var mean: Float = 0
            for r in 0..<B { mean += x[r * C + c] }
            mean /= Float(B)
            var variance: Float = 0
            for r in 0..<B { let d = x[r * C + c] - mean; variance += d * d }
            let biased = variance / Float(B)
            let istd = 1 / (biased + epsilon).squareRoot()
            inverseStd[c] = istd
            let gamma = parameters[weightOffset + c]
            let beta = parameters[biasOffset + c]
            for r in 0..<B {
                let n = (x[r * C + c] - mean) * istd
                normalized[r * C + c] = n
                y[r * C + c] = gamma * n + beta
            }
            if updateRunningStatistics {
                let unbiased = variance / Float(B - 1)
                buffers[runningMeanOffset + c] = (1 - momentum) * buffers[runningMeanOffset + c] + momentum * mean
                buffers[runningVarianceOffset + c] = (1 - momentum) * buffers[runningVarianceOffset + c] + momentum * unbiased
            }
        }
    }

    /// Evaluation forward with the running statistics; `x` and `y` may alias.
    public func forwardInference(_ x: UnsafePointer<Float>, batch: Int,
                                 parameters: UnsafePointer<Float>, buffers: UnsafePointer<Float>,
                                 into y: UnsafeMutablePointer<Float>) {
        let C = channels
        for c in 0..<C {
            let scale = parameters[weightOffset + c] / (buffers[runningVarianceOffset + c] + epsilon).squareRoot()
            let shift = parameters[biasOffset + c] - buffers[runningMeanOffset + c] * scale
            for r in 0..<batch { y[r * C + c] = x[r * C + c] * scale + shift }
        }
    }

    /// Backward of the training forward:
    /// `dγ += Σ dy·x̂`, `dβ += Σ dy`,
    /// `dx = γ·istd/B · (B·dy − Σdy − x̂·Σ(dy·x̂))`. `dx` may alias `dy`.
    public func backward(dy: UnsafePointer<Float>, batch: Int,
                         normalized: UnsafePointer<Float>, inverseStd: UnsafePointer<Float>,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                         dx: UnsafeMutablePointer<Float>) {
        let C = channels
        let B = batch
        for c in 0..<C {
            var sumDy: Float = 0
            var sumDyX: Float = 0
            for r in 0..<B {
                sumDy += dy[r * C + c]
                sumDyX += dy[r * C + c] * normalized[r * C + c]
            }
            gradients[weightOffset + c] += sumDyX
            gradients[biasOffset + c] += sumDy
            let k = parameters[weightOffset + c] * inverseStd[c] / Float(B)
            for r in 0..<B {
                dx[r * C + c] = k * (Float(B) * dy[r * C + c] - sumDy - normalized[r * C + c] * sumDyX)
            }
        }
    }
}
