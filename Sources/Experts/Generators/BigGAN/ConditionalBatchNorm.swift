import Foundation

/// `BigGANBatchNorm` of `pytorch-pretrained-biggan`, followed by the ReLU
/// that comes after it wherever the generator uses it. Per image n and channel c:
///
///     y = relu((x − mean[c]) / √(var[c] + ε) · γ[n, c] + β[n, c])
///
/// with mean and var the statistics for the truncation (`TruncatedStatistics`)
/// and, when conditional, γ = 1 + S·cond_n and β = O·cond_n (S and O
/// spectral-normalised `[C, 2·z_dim]`, no bias); otherwise γ = weight and β = bias.
struct ConditionalBatchNorm {
    let means: TruncatedStatistics
    let variances: TruncatedStatistics
    let epsilon: Float
    /// Conditional: `scale` and `offset` `[C, D]`; else `weight` and `bias` `[C]`.
    let scale: [Float], offset: [Float]
    let conditionDimension: Int?
    var channels: Int { means.channels }

    /// Reads `prefix.running_means`/`running_vars` `[n_stats, C]` and
    /// `prefix.scale`/`offset` (conditional, width `conditionDimension`) or `prefix.weight`/`bias`.
    init(_ weights: CheckedStateDict, _ prefix: String, channels C: Int, statistics: Int, epsilon: Float,
         conditionDimension: Int?) throws {
        means = TruncatedStatistics(table: try weights.scalars("\(prefix).running_means", [statistics, C]), rows: statistics, channels: C)
        variances = TruncatedStatistics(table: try weights.scalars("\(prefix).running_vars", [statistics, C]), rows: statistics, channels: C)
        self.epsilon = epsilon
        self.conditionDimension = conditionDimension
        if let D = conditionDimension {
            scale = try weights.spectralNormalized("\(prefix).scale", [C, D])
            offset = try weights.spectralNormalized("\(prefix).offset", [C, D])
        } else {
            scale = try weights.scalars("\(prefix).weight", [C])
            offset = try weights.scalars("\(prefix).bias", [C])
        }
    }

    /// Applies in place to one channels-last image `x [pixels, C]`.
    func apply(_ x: UnsafeMutablePointer<Float>, pixels: Int, condition: [Float], truncation: Double) {
        let C = channels
        let mean = means.row(truncation: truncation), variance = variances.row(truncation: truncation)
        var gamma = [Float](repeating: 0, count: C), beta = gamma
        if let D = conditionDimension {
            precondition(condition.count == D)
            for c in 0..<C {
                var s: Float = 0, o: Float = 0
                for k in 0..<D {
                    s += scale[c * D + k] * condition[k]
                    o += offset[c * D + k] * condition[k]
                }
                gamma[c] = 1 + s
                beta[c] = o
            }
        } else {
            gamma = scale
            beta = offset
        }
        let deviation = (0..<C).map { (variance[$0] + epsilon).squareRoot() }
        for p in 0..<pixels {
            let row = x + p * C
            for c in 0..<C { row[c] = max(0, (row[c] - mean[c]) / deviation[c] * gamma[c] + beta[c]) }
        }
    }
}

/// Nearest-neighbour ×2 upsampling of a channels-last image: `y[2i + a, 2j + b, c] = x[i, j, c]`,
/// `[H, W, C]` → `[2H, 2W, C]` (PyTorch `interpolate(scale_factor=2, mode="nearest")`).
func upsampleNearest2x(_ x: UnsafePointer<Float>, height H: Int, width W: Int, channels C: Int) -> [Float] {
    var y = [Float](repeating: 0, count: 4 * H * W * C)
    y.withUnsafeMutableBufferPointer { out in
        for i in 0..<(2 * H) {
            for j in 0..<(2 * W) {
                (out.baseAddress! + (i * 2 * W + j) * C).update(from: x + ((i / 2) * W + j / 2) * C, count: C)
            }
        }
    }
    return y
}
