import Layers
import TensorCore

/// The condition embedder e = MLP(z_Φ), shared by every coupling.
///
/// Linear(Dc → Hc) → [BatchNorm] → LeakyReLU, `depth` × [Linear(Hc → Hc) →
/// [BatchNorm] → LeakyReLU], Linear(Hc → E). Parameter names follow a
/// PyTorch `nn.Sequential` (`embedder.layers.{i}`), counting BatchNorm and
/// LeakyReLU as modules. In training, BatchNorm uses batch statistics and
/// updates its running statistics; in evaluation it uses the running ones.
/// With `standardizes`, the condition is first mapped to (c − mean) / std
/// by two fixed buffers (`embedder.condition_mean`, `embedder.condition_std`;
/// identity until `setStandardization`).
public struct ConditionEmbedder: Sendable {
    public let conditionDimension: Int
    public let hiddenDimension: Int
    public let embeddingDimension: Int
    public let depth: Int
    public let usesBatchNorm: Bool
    public let slope: Float
    public let standardizes: Bool
    /// Buffer offsets of the condition's mean and deviation (with `standardizes`).
    let meanOffset: Int, stdOffset: Int
    let hidden: [Linear]
    let norms: [BatchNorm]
    let output: Linear

    public init(conditionDimension: Int, hiddenDimension: Int, embeddingDimension: Int, depth: Int,
                usesBatchNorm: Bool, slope: Float = 0.01, standardizes: Bool = false,
                parameters: inout ParameterLayout, buffers: inout ParameterLayout) {
        self.conditionDimension = conditionDimension
        self.hiddenDimension = hiddenDimension
        self.embeddingDimension = embeddingDimension
        self.depth = depth
        self.usesBatchNorm = usesBatchNorm
        self.slope = slope
        self.standardizes = standardizes
        if standardizes {
            meanOffset = buffers.add("embedder.condition_mean", shape: [conditionDimension])
            stdOffset = buffers.add("embedder.condition_std", shape: [conditionDimension])
        } else {
            (meanOffset, stdOffset) = (0, 0)
        }
        var index = 0
        var hidden: [Linear] = []
        var norms: [BatchNorm] = []
        for k in 0...depth {
            hidden.append(Linear("embedder.layers.\(index)", inputDimension: k == 0 ? conditionDimension : hiddenDimension,
                                 outputDimension: hiddenDimension, layout: &parameters))
            index += 1
            if usesBatchNorm {
                norms.append(BatchNorm("embedder.layers.\(index)", channels: hiddenDimension,
                                       parameters: &parameters, buffers: &buffers))
                index += 1
            }
            index += 1  // LeakyReLU
        }
        self.hidden = hidden
        self.norms = norms
        output = Linear("embedder.layers.\(index)", inputDimension: hiddenDimension,
                        outputDimension: embeddingDimension, layout: &parameters)
    }

    public func initialize(_ parameters: UnsafeMutablePointer<Float>, buffers: UnsafeMutablePointer<Float>,
                           using generator: inout SeededGenerator) {
        for layer in hidden + [output] { layer.initialize(parameters, using: &generator) }
        for norm in norms { norm.initialize(parameters, buffers: buffers) }
        if standardizes {
            (buffers + meanOffset).update(repeating: 0, count: conditionDimension)
            (buffers + stdOffset).update(repeating: 1, count: conditionDimension)
        }
    }

    /// Sets the standardisation to the per-dimension mean and deviation of
    /// `conditions` (`count` rows of Dc); a dimension that does not vary
    /// keeps deviation 1.
    public func setStandardization(from conditions: UnsafePointer<Float>, count: Int, buffers: UnsafeMutablePointer<Float>) {
        precondition(standardizes && count > 0)
        let Dc = conditionDimension
        var sum = [Double](repeating: 0, count: Dc), squares = [Double](repeating: 0, count: Dc)
        for r in 0..<count {
            for j in 0..<Dc {
                let v = Double(conditions[r * Dc + j])
                sum[j] += v
                squares[j] += v * v
            }
        }
        for j in 0..<Dc {
            let mean = sum[j] / Double(count)
            let deviation = max(0, squares[j] / Double(count) - mean * mean).squareRoot()
            buffers[meanOffset + j] = Float(mean)
            buffers[stdOffset + j] = deviation > 1e-6 * max(1, abs(mean)) ? Float(deviation) : 1
        }
    }

    /// Activations kept for `backward`.
    public final class Workspace {
        let linearOut: [FloatBuffer]   // [B, Hc] per hidden layer (BatchNorm input)
        let normalized: [FloatBuffer]  // x̂ [B, Hc]
        let inverseStd: [FloatBuffer]  // [Hc]
        let activations: [FloatBuffer] // [B, Hc] after LeakyReLU
        let dA: FloatBuffer, dZ: FloatBuffer  // [B, Hc] scratch
        let standardized: FloatBuffer  // [B, Dc] (with `standardizes`)
        init(_ e: ConditionEmbedder, batch B: Int) {
            let n = e.depth + 1, H = e.hiddenDimension
            standardized = FloatBuffer(count: e.standardizes ? B * e.conditionDimension : 0)
            linearOut = (0..<n).map { _ in FloatBuffer(count: B * H) }
            normalized = (0..<n).map { _ in FloatBuffer(count: e.usesBatchNorm ? B * H : 0) }
            inverseStd = (0..<n).map { _ in FloatBuffer(count: H) }
            activations = (0..<n).map { _ in FloatBuffer(count: B * H) }
            dA = FloatBuffer(count: B * H)
            dZ = FloatBuffer(count: B * H)
        }
    }

    public func makeWorkspace(batch: Int) -> Workspace { Workspace(self, batch: batch) }

    /// e = MLP(c): c `[B, Dc]` → e `[B, E]`. `training` selects batch
    /// statistics (and then `updateStatistics` updates the running ones).
    /// With `shard`, BatchNorm's statistics are those of the whole batch
    /// split over processes (`SynchronizedBatchNorm`).
    public func forward(_ c: UnsafePointer<Float>, batch B: Int, training: Bool, updateStatistics: Bool,
                        parameters: UnsafePointer<Float>, buffers: UnsafeMutablePointer<Float>,
                        into e: UnsafeMutablePointer<Float>, workspace w: Workspace, shard: BatchShard? = nil) {
        let H = hiddenDimension
        var input = c
        var ldInput = conditionDimension
        if standardizes {
            let Dc = conditionDimension, s = w.standardized.pointer
            let mean = UnsafePointer(buffers + meanOffset), std = UnsafePointer(buffers + stdOffset)
            for r in 0..<B {
                for j in 0..<Dc { s[r * Dc + j] = (c[r * Dc + j] - mean[j]) / std[j] }
            }
            input = UnsafePointer(s)
        }
        for k in 0...depth {
            let z = w.linearOut[k].pointer, a = w.activations[k].pointer
            hidden[k].forward(input, ldx: ldInput, batch: B, parameters: parameters, into: z, ldy: H)
            if usesBatchNorm {
                if training, let shard {
                    norms[k].forwardTraining(z, batch: B, parameters: parameters, buffers: buffers,
                                             updateRunningStatistics: updateStatistics,
                                             normalized: w.normalized[k].pointer, inverseStd: w.inverseStd[k].pointer,
                                             into: a, shard: shard)
                } else if training {
                    norms[k].forwardTraining(z, batch: B, parameters: parameters, buffers: buffers,
                                             updateRunningStatistics: updateStatistics,
                                             normalized: w.normalized[k].pointer, inverseStd: w.inverseStd[k].pointer,
                                             into: a)
                } else {
                    norms[k].forwardInference(z, batch: B, parameters: parameters, buffers: buffers, into: a)
                }
                Vector.leakyReLU(a, a, count: B * H, slope: slope)
            } else {
                Vector.leakyReLU(z, a, count: B * H, slope: slope)
            }
            input = UnsafePointer(a)
            ldInput = H
        }
        output.forward(input, ldx: H, batch: B, parameters: parameters, into: e, ldy: embeddingDimension)
    }

    /// Backward of a training `forward`: adds parameter gradients; writes
    /// the gradient w.r.t. the condition into `dCondition` when given.
    public func backward(de: UnsafePointer<Float>, batch B: Int, condition c: UnsafePointer<Float>,
                         parameters: UnsafePointer<Float>, buffers: UnsafePointer<Float>,
                         gradients: UnsafeMutablePointer<Float>,
                         dCondition: UnsafeMutablePointer<Float>?, workspace w: Workspace, shard: BatchShard? = nil) {
        let H = hiddenDimension
        output.backward(w.activations[depth].pointer, ldx: H, batch: B, dy: de, lddy: embeddingDimension,
                        parameters: parameters, gradients: gradients, accumulateParameters: true,
                        dx: w.dA.pointer, lddx: H)
        for k in stride(from: depth, through: 0, by: -1) {
            Vector.leakyReLUBackward(y: w.activations[k].pointer, dy: w.dA.pointer, dx: w.dZ.pointer,
                                     count: B * H, slope: slope)
            if usesBatchNorm, let shard {
                norms[k].backward(dy: w.dZ.pointer, batch: B, normalized: w.normalized[k].pointer,
                                  inverseStd: w.inverseStd[k].pointer, parameters: parameters,
                                  gradients: gradients, dx: w.dZ.pointer, shard: shard)
            } else if usesBatchNorm {
                norms[k].backward(dy: w.dZ.pointer, batch: B, normalized: w.normalized[k].pointer,
                                  inverseStd: w.inverseStd[k].pointer, parameters: parameters,
                                  gradients: gradients, dx: w.dZ.pointer)
            }
            let first = standardizes ? UnsafePointer(w.standardized.pointer) : c
            let input = k > 0 ? UnsafePointer(w.activations[k - 1].pointer) : first
            let ldInput = k > 0 ? H : conditionDimension
            let dx: UnsafeMutablePointer<Float>? = k > 0 ? w.dA.pointer : dCondition
            hidden[k].backward(input, ldx: ldInput, batch: B, dy: w.dZ.pointer, lddy: H,
                               parameters: parameters, gradients: gradients, accumulateParameters: true,
                               dx: dx, lddx: ldInput)
        }
        if standardizes, let dCondition {
            // d/dc of (c − mean) / std.
            let Dc = conditionDimension, std = buffers + stdOffset
            for r in 0..<B {
                for j in 0..<Dc { dCondition[r * Dc + j] /= std[j] }
            }
        }
    }
}
