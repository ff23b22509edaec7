import Foundation
import Layers
import TensorCore

/// `SelfAttn` of `pytorch-pretrained-biggan` (SAGAN's attention, Zhang et
/// al. 2019), on one channels-last image x `[P, C]` (P = H·W pixels):
///
///     θ = x·Wθᵀ                `[P, C/8]`
///     φ = maxpool₂(x·Wφᵀ)      `[P/4, C/8]`   (2×2 windows, stride 2)
///     g = maxpool₂(x·Wgᵀ)      `[P/4, C/2]`
///     A = softmax_rows(θ·φᵀ)   `[P, P/4]`
///     y = x + γ · (A·g)·Woᵀ    `[P, C]`
///
/// Every W is a spectral-normalised 1×1 convolution without bias; γ is a
/// learned scalar.
struct BigGANSelfAttention {
    let channels: Int
    /// `[C/8, C]`, `[C/8, C]`, `[C/2, C]`, `[C, C/2]`.
    let theta: [Float], phi: [Float], g: [Float], output: [Float]
    let gamma: Float

    init(_ weights: CheckedStateDict, _ prefix: String, channels C: Int) throws {
        channels = C
        theta = try weights.spectralNormalized("\(prefix).snconv1x1_theta", [C / 8, C, 1, 1])
        phi = try weights.spectralNormalized("\(prefix).snconv1x1_phi", [C / 8, C, 1, 1])
        g = try weights.spectralNormalized("\(prefix).snconv1x1_g", [C / 2, C, 1, 1])
        output = try weights.spectralNormalized("\(prefix).snconv1x1_o_conv", [C, C / 2, 1, 1])
        gamma = try weights.scalars("\(prefix).gamma", [1])[0]
    }

    /// `y [P, out] = x [P, in] · Wᵀ` with W `[out, in]`.
    static func project(_ x: [Float], rows: Int, _ weight: [Float], inputs: Int, outputs: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * outputs)
        gemm(.none, .transposed, m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: weight, ldb: inputs, c: &y, ldc: outputs)
        return y
    }

    /// 2×2 max pooling of a channels-last image `[H, W, C]`.
    static func pool(_ x: [Float], height: Int, width: Int, channels: Int) -> [Float] {
        let pool = MaxPool2d(kernelSize: 2, stride: 2)
        var y = [Float](repeating: 0, count: (height / 2) * (width / 2) * channels)
        x.withUnsafeBufferPointer { input in
            y.withUnsafeMutableBufferPointer { output in
                pool.forwardChannelsLast(input.baseAddress!, batch: 1, height: height, width: width, channels: channels,
                                         into: output.baseAddress!)
            }
        }
        return y
    }

    func forward(_ x: [Float], height H: Int, width W: Int) -> [Float] {
        let C = channels, P = H * W, Q = (H / 2) * (W / 2)
        let queries = Self.project(x, rows: P, theta, inputs: C, outputs: C / 8)
        let keys = Self.pool(Self.project(x, rows: P, phi, inputs: C, outputs: C / 8), height: H, width: W, channels: C / 8)
        let values = Self.pool(Self.project(x, rows: P, g, inputs: C, outputs: C / 2), height: H, width: W, channels: C / 2)
        // A [P, Q] = θ · φᵀ, then a softmax over each row.
        var attention = [Float](repeating: 0, count: P * Q)
        gemm(.none, .transposed, m: P, n: Q, k: C / 8, a: queries, lda: C / 8, b: keys, ldb: C / 8, c: &attention, ldc: Q)
        attention.withUnsafeMutableBufferPointer { a in
            Parallel.forEachChunk(count: P, minimumChunk: max(1, 16384 / Q)) { rows in
                for p in rows {
                    let row = a.baseAddress! + p * Q
                    var largest = -Float.infinity
                    for q in 0..<Q { largest = max(largest, row[q]) }
                    for q in 0..<Q { row[q] -= largest }
                    Vector.exp(row, row, count: Q)
                    Vector.scale(row, by: 1 / Vector.sum(row, count: Q), count: Q)
                }
            }
        }
        var mixed = [Float](repeating: 0, count: P * (C / 2))
        gemm(.none, .none, m: P, n: C / 2, k: Q, a: attention, lda: Q, b: values, ldb: C / 2, c: &mixed, ldc: C / 2)
        let projected = Self.project(mixed, rows: P, output, inputs: C / 2, outputs: C)
        return (0..<(P * C)).map { x[$0] + gamma * projected[$0] }
    }
}
