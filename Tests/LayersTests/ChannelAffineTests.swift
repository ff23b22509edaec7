import XCTest
import TestSupport
import Layers
import TensorCore

/// Folding an inference BatchNorm into convolutions, and global average pooling.
final class ChannelAffineTests: XCTestCase {
    let gamma: [Float] = [1.5, -0.7, 0.3, 2], beta: [Float] = [0.2, -1, 2, 0]
    let mean: [Float] = [0.5, -1, 2, 0.1], variance: [Float] = [1.5, 0.7, 3, 0.01]

    /// BatchNorm inference in Double: γ·(y − mean)/√(var + ε) + β on `[N, C, P]`.
    func batchNorm(_ y: [Double], plane P: Int) -> [Double] {
        y.indices.map { k in
            let c = (k / P) % gamma.count
            return Double(gamma[c]) * (y[k] - Double(mean[c])) / (Double(variance[c]) + 1e-5).squareRoot() + Double(beta[c])
        }
    }

    /// Conv → BN equals the conv with BN folded into W and b, and equals the
    /// conv with BN as the epilogue's scale/shift.
    func testFoldedConvolutionMatchesConvolutionThenBatchNorm() {
        let layer = Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, stride: 2, padding: Padding2d(1))
        let (N, H, W) = (2, 9, 7)
        let (ho, wo) = layer.outputSize(height: H, width: W)
        let x = normals(N * 3 * H * W, seed: 1)
        var weight = normals(layer.weightShape.reduce(1, *), seed: 2, scale: 0.5)
        let bias = normals(4, seed: 3)
        let expected = batchNorm(Reference.conv2d(x, batch: N, height: H, width: W, layer: layer, weight: weight, bias: bias),
                                 plane: ho * wo)
        let bn = ChannelAffine(batchNormWeight: gamma, bias: beta, runningMean: mean, runningVariance: variance, epsilon: 1e-5)
        let workspace = layer.makeWorkspace(height: H, width: W)
        var viaEpilogue = [Float](repeating: 0, count: expected.count)
        bn.scale.withUnsafeBufferPointer { s in
            bn.shift.withUnsafeBufferPointer { t in
                layer.forward(x, batch: N, height: H, width: W, weight: weight, bias: bias,
                              epilogue: ConvolutionEpilogue(scale: s.baseAddress, shift: t.baseAddress),
                              workspace: workspace, into: &viaEpilogue)
            }
        }
        assertAllNear(viaEpilogue, expected, "BN as epilogue")
        let foldedBias = bn.fold(intoConvolutionWeight: &weight, bias: bias)
        var folded = [Float](repeating: 0, count: expected.count)
        layer.forward(x, batch: N, height: H, width: W, weight: weight, bias: foldedBias, workspace: workspace, into: &folded)
        assertAllNear(folded, expected, "BN folded into W, b")
    }

    func testFoldedTransposedConvolutionMatchesBatchNorm() {
        let layer = ConvTranspose2d(inputChannels: 3, outputChannels: 4, kernelSize: 4, stride: 2, padding: 1)
        let (N, H, W) = (2, 3, 5)
        let (ho, wo) = layer.outputSize(height: H, width: W)
        let x = normals(N * 3 * H * W, seed: 4)
        var weight = normals(layer.weightShape.reduce(1, *), seed: 5, scale: 0.5)
        let expected = batchNorm(
            Reference.convTranspose2d(x, batch: N, height: H, width: W, layer: layer, weight: weight, bias: nil), plane: ho * wo)
        let bn = ChannelAffine(batchNormWeight: gamma, bias: beta, runningMean: mean, runningVariance: variance)
        let foldedBias = bn.fold(intoTransposedConvolutionWeight: &weight, inputChannels: 3, bias: nil)
        var y = [Float](repeating: 0, count: expected.count)
        layer.forward(x, batch: N, height: H, width: W, weight: weight, bias: foldedBias,
                      workspace: layer.makeWorkspace(height: H, width: W), into: &y)
        assertAllNear(y, expected, "BN folded into a transposed convolution")
    }
}
