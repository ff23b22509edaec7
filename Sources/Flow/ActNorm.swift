import Layers
import TensorCore
import Foundation

/// Activation normalisation (Kingma & Dhariwal, Glow): a per-feature affine
/// map with a log-parameterised scale.
///
/// `y = (x + loc) · exp(logScale)`, `log|det| = Σⱼ logScale_j` for every row.
/// Shapes: x, y `[B, D]`; loc, logScale `[D]`. Initialised from the first
/// training batch so that its output has zero mean and unit variance:
/// `loc = −mean`, `logScale = −log(std + 1e-6)` (unbiased std, as the
/// reference's `torch.std`).
public struct ActNorm: InvertibleLayer, Sendable {
    public let dimension: Int
    public let locOffset: Int
    public let logScaleOffset: Int

    public init(_ name: String, dimension: Int, layout: inout ParameterLayout) {
        self.dimension = dimension
        locOffset = layout.add("\(name).loc", shape: [dimension])
        logScaleOffset = layout.add("\(name).log_scale", shape: [dimension])
    }

    /// The output of the last `forward`, which `backward` needs, and room
    /// for the per-feature scales.
    public final class Workspace {
        let output: FloatBuffer
        let scales: FloatBuffer
        init(batch: Int, dimension: Int) {
            output = FloatBuffer(count: batch * dimension)
            scales = FloatBuffer(count: dimension)
        }
    }

    public func makeWorkspace(batch: Int) -> Workspace { Workspace(batch: batch, dimension: dimension) }

    /// Data-dependent initialisation from `x` `[B, D]` (B ≥ 2).
    public func initialize(from x: UnsafePointer<Float>, batch: Int, parameters: UnsafeMutablePointer<Float>) {
        precondition(batch >= 2, "ActNorm initialisation needs at least two samples")
        let D = dimension
        for j in 0..<D {
            var mean = 0.0
            for r in 0..<batch { mean += Double(x[r * D + j]) }
            mean /= Double(batch)
            var variance = 0.0
            for r in 0..<batch { let d = Double(x[r * D + j]) - mean; variance += d * d }
            let std = (variance / Double(batch - 1)).squareRoot()
            parameters[locOffset + j] = Float(-mean)
            parameters[logScaleOffset + j] = Float(-Foundation.log(std + 1e-6))
        }
    }

    /// The same initialisation from this process's rows of a batch split
    /// over processes: the mean and the unbiased std are those of the whole
    /// batch (sums of every process's Σx, then of Σ(x − mean)²).
    public func initialize(from x: UnsafePointer<Float>, batch: Int, parameters: UnsafeMutablePointer<Float>,
                           shard: BatchShard) {
        precondition(shard.globalBatch >= 2, "ActNorm initialisation needs at least two samples")
        let D = dimension
        let sums = UnsafeMutableBufferPointer<Double>.allocate(capacity: D)
        defer { sums.deallocate() }
        for j in 0..<D {
            var total = 0.0
            for r in 0..<batch { total += Double(x[r * D + j]) }
            sums[j] = total
        }
        shard.sumOverProcesses(sums)
        let means = sums.map { $0 / Double(shard.globalBatch) }
        for j in 0..<D {
            var squares = 0.0
            for r in 0..<batch { let d = Double(x[r * D + j]) - means[j]; squares += d * d }
            sums[j] = squares
        }
        shard.sumOverProcesses(sums)
        for j in 0..<D {
            let std = (sums[j] / Double(shard.globalBatch - 1)).squareRoot()
            parameters[locOffset + j] = Float(-means[j])
            parameters[logScaleOffset + j] = Float(-Foundation.log(std + 1e-6))
        }
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int,
                        embedding: UnsafePointer<Float>?, logDet: UnsafeMutablePointer<Float>,
                        parameters: UnsafePointer<Float>, workspace: Workspace) {
        let D = dimension
        let loc = parameters + locOffset
        let logScale = parameters + logScaleOffset
        let scales = workspace.scales.pointer
        Vector.exp(logScale, scales, count: D)
        let total = Vector.sum(logScale, count: D)
        for r in 0..<batch {
            let xr = x + r * D, yr = y + r * D
            for j in 0..<D { yr[j] = (xr[j] + loc[j]) * scales[j] }
            logDet[r] += total
        }
        workspace.output.pointer.update(from: y, count: batch * D)
    }

    public func inverse(_ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, batch: Int,
                        embedding: UnsafePointer<Float>?, logDet: UnsafeMutablePointer<Float>,
                        parameters: UnsafePointer<Float>, workspace: Workspace) {
        let D = dimension
        let loc = parameters + locOffset
        let logScale = parameters + logScaleOffset
        let inverseScales = workspace.scales.pointer
        for j in 0..<D { inverseScales[j] = -logScale[j] }
        Vector.exp(inverseScales, inverseScales, count: D)
        let total = Vector.sum(logScale, count: D)
        for r in 0..<batch {
            let xr = x + r * D, yr = y + r * D
            for j in 0..<D { xr[j] = yr[j] * inverseScales[j] - loc[j] }
            logDet[r] -= total
        }
    }

    /// `dx = dy·exp(logScale)`, `dloc_j += Σ_r dy·exp(logScale)`,
    /// `dlogScale_j += Σ_r (dy·y + dLogDet_r)`.
    public func backward(dy: UnsafePointer<Float>, dLogDet: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                         batch: Int, embedding: UnsafePointer<Float>?,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                         dEmbedding: UnsafeMutablePointer<Float>?, workspace: Workspace) {
        let D = dimension
        let logScale = parameters + logScaleOffset
        let dLoc = gradients + locOffset
        let dLogScale = gradients + logScaleOffset
        let y = workspace.output.pointer
        var sumLogDet: Float = 0
        for r in 0..<batch { sumLogDet += dLogDet[r] }
        for j in 0..<D {
            let s = Foundation.exp(logScale[j])
            var sumDy: Float = 0
            var sumDyY: Float = 0
            for r in 0..<batch {
                let g = dy[r * D + j]
                sumDy += g
                sumDyY += g * y[r * D + j]
                dx[r * D + j] = g * s
            }
            dLoc[j] += sumDy * s
            dLogScale[j] += sumDyY + sumLogDet
        }
    }
}
