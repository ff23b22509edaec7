import CKernels
import TensorCore

/// Batch normalisation per channel of `[B, C, S]` data: `[B, C]` features
/// (S = 1, PyTorch `BatchNorm1d`) or NCHW images with `S = H·W`
/// (`BatchNorm2d`); the statistics of channel c are over all B·S of its values.
///
/// Training: `y = γ·(x − μ_B)/√(σ²_B + ε) + β` with the biased batch
/// variance; running statistics are updated as
/// `r ← (1 − momentum)·r + momentum·stat`, using the unbiased variance for
/// `running_var`, as PyTorch does. Evaluation uses the running statistics.
/// γ (`weight`) and β (`bias`) are parameters; `running_mean` and
/// `running_var` are buffers (saved, not trained). Channels run in parallel;
/// each channel's runs of S values are vectorised and their sums gathered in
/// Double.
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

    /// Calls `body(c)` for every channel, in parallel when there is enough work.
    func forEachChannel(elements: Int, _ body: (Int) -> Void) {
        Parallel.forEachChunk(count: channels, minimumChunk: max(1, 16384 / max(1, elements))) { range in
            for c in range { body(c) }
        }
    }

    /// Training forward on contiguous `[B, C, S]`. Saves x̂ `[B, C, S]` and
    /// 1/√(σ²+ε) `[C]` for `backward`; updates the running statistics when
    /// `updateRunningStatistics`.
    public func forwardTraining(_ x: UnsafePointer<Float>, batch: Int, spatial: Int = 1,
                                parameters: UnsafePointer<Float>, buffers: UnsafeMutablePointer<Float>,
                                updateRunningStatistics: Bool,
                                normalized: UnsafeMutablePointer<Float>, inverseStd: UnsafeMutablePointer<Float>,
                                into y: UnsafeMutablePointer<Float>) {
        let C = channels, B = batch, S = spatial
        let count = B * S
        precondition(count > 1, "BatchNorm in training needs more than one value per channel")
        forEachChannel(elements: count) { c in
            var total = 0.0
            for b in 0..<B { total += Double(Vector.sum(x + (b * C + c) * S, count: S)) }
            let mean = Float(total / Double(count))
            var squares = 0.0
            for b in 0..<B {
                squares += Double(Vector.sumOfSquaredDeviations(x + (b * C + c) * S, count: S, mean: mean))
            }
            normalizeChannel(c, x, batch: B, spatial: S, mean: mean, squares: squares, count: count,
                             parameters: parameters, buffers: buffers, updateRunningStatistics: updateRunningStatistics,
                             normalized: normalized, inverseStd: inverseStd, into: y)
        }
    }

    /// Channel c of `[B, C, S]` from its statistics over `count` values (the
    /// mean and Σ(x − mean)²): x̂ = (x − mean)·istd, y = γ·x̂ + β, istd kept
    /// for backward, and the running statistics updated when asked.
    func normalizeChannel(_ c: Int, _ x: UnsafePointer<Float>, batch B: Int, spatial S: Int, mean: Float,
                          squares: Double, count: Int, parameters: UnsafePointer<Float>,
                          buffers: UnsafeMutablePointer<Float>, updateRunningStatistics: Bool,
                          normalized: UnsafeMutablePointer<Float>, inverseStd: UnsafeMutablePointer<Float>,
                          into y: UnsafeMutablePointer<Float>) {
        let C = channels
        let istd = 1 / (Float(squares / Double(count)) + epsilon).squareRoot()
        inverseStd[c] = istd
        let gamma = parameters[weightOffset + c], beta = parameters[biasOffset + c]
        for b in 0..<B {
            let offset = (b * C + c) * S
            Vector.normalize(x + offset, mean: mean, scale: istd, into: normalized + offset, count: S)
            n2n_affine_activation(normalized + offset, y + offset, S, gamma, beta, nil, N2N_ACT_NONE)
        }
        if updateRunningStatistics {
            let unbiased = Float(squares / Double(count - 1))
            buffers[runningMeanOffset + c] = (1 - momentum) * buffers[runningMeanOffset + c] + momentum * mean
            buffers[runningVarianceOffset + c] = (1 - momentum) * buffers[runningVarianceOffset + c] + momentum * unbiased
        }
    }

    /// Evaluation forward on `[B, C, S]` with the running statistics; `x` and `y` may alias.
    public func forwardInference(_ x: UnsafePointer<Float>, batch: Int, spatial: Int = 1,
                                 parameters: UnsafePointer<Float>, buffers: UnsafePointer<Float>,
                                 into y: UnsafeMutablePointer<Float>) {
        let C = channels, S = spatial
        forEachChannel(elements: batch * S) { c in
            let scale = parameters[weightOffset + c] / (buffers[runningVarianceOffset + c] + epsilon).squareRoot()
            let shift = parameters[biasOffset + c] - buffers[runningMeanOffset + c] * scale
            for b in 0..<batch {
                let offset = (b * C + c) * S
                n2n_affine_activation(x + offset, y + offset, S, scale, shift, nil, N2N_ACT_NONE)
            }
        }
    }

    /// Backward of the training forward on `[B, C, S]`, with n = B·S:
    /// `dγ += Σ dy·x̂`, `dβ += Σ dy`,
    /// `dx = γ·istd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))`. `dx` may alias `dy`.
    public func backward(dy: UnsafePointer<Float>, batch: Int, spatial: Int = 1,
                         normalized: UnsafePointer<Float>, inverseStd: UnsafePointer<Float>,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                         dx: UnsafeMutablePointer<Float>) {
        let C = channels, B = batch, S = spatial
        let count = B * S
        forEachChannel(elements: count) { c in
            var sumDy = 0.0, sumDyX = 0.0
            for b in 0..<B {
                let offset = (b * C + c) * S
                sumDy += Double(Vector.sum(dy + offset, count: S))
                sumDyX += Double(Vector.dot(dy + offset, normalized + offset, count: S))
            }
            gradients[weightOffset + c] += Float(sumDyX)
            gradients[biasOffset + c] += Float(sumDy)
            // dx = a·dy − (k·Σdy + x̂·k·Σ(dy·x̂)) with a = γ·istd, k = a/n
            let a = parameters[weightOffset + c] * inverseStd[c]
            let meanDy = Float(sumDy / Double(count)) * a
            let meanDyX = Float(sumDyX / Double(count)) * a
            for b in 0..<B {
                let offset = (b * C + c) * S
                n2n_scaled_difference(dy + offset, normalized + offset, dx + offset, S, a, meanDy, meanDyX)
            }
        }
    }
}
