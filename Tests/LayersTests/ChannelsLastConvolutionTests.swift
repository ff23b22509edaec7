import XCTest
import TestSupport
import Layers
import TensorCore

/// `Conv2d.forwardChannelsLast` (NHWC) against the same naive NCHW reference
/// as `ConvolutionTests`, with inputs and outputs transposed around it.
final class ChannelsLastConvolutionTests: XCTestCase {
    /// `[N, C, H, W]` → `[N, H, W, C]`.
    func toChannelsLast<T>(_ x: [T], batch N: Int, channels C: Int, height H: Int, width W: Int) -> [T] {
        var out = x
        for n in 0..<N { for c in 0..<C { for p in 0..<(H * W) { out[(n * H * W + p) * C + c] = x[(n * C + c) * H * W + p] } } }
        return out
    }

    func check(_ layer: Conv2d, batch N: Int, height H: Int, width W: Int, bias: Bool = true, affine: Bool = false,
               residual: Bool = false, activation: ConvolutionActivation = .none, seed: UInt64,
               file: StaticString = #filePath, line: UInt = #line) {
        let (ho, wo) = layer.outputSize(height: H, width: W)
        let Cin = layer.inputChannels, Cout = layer.outputChannels
        let outCount = N * Cout * ho * wo
        let x = normals(N * Cin * H * W, seed: seed)
        let weight = normals(layer.weightShape.reduce(1, *), seed: seed + 1, scale: 0.5)
        let b = bias ? normals(Cout, seed: seed + 2) : nil
        let scale = affine ? normals(Cout, seed: seed + 3) : nil
        let shift = affine ? normals(Cout, seed: seed + 4) : nil
        let r = residual ? normals(outCount, seed: seed + 5) : nil
        let expected = Reference.epilogue(
            Reference.conv2d(x, batch: N, height: H, width: W, layer: layer, weight: weight, bias: b),
            channels: Cout, plane: ho * wo, scale: scale, shift: shift, residual: r, activation: activation)
        let xLast = toChannelsLast(x, batch: N, channels: Cin, height: H, width: W)
        let rLast = r.map { toChannelsLast($0, batch: N, channels: Cout, height: ho, width: wo) }
        let w = layer.channelsLastWeight(weight)
        // Room for a few output rows only, so the im2col path runs in several GEMMs.
        let needed = layer.channelsLastWorkspaceCount(height: H, width: W)
        let workspace = needed == 0 ? nil : FloatBuffer(count: needed / (ho * wo) * (2 * wo + 1))
        var y = [Float](repeating: .nan, count: outCount)
        withOptionalPointers(b, scale, shift, rLast) { bp, sp, tp, rp in
            layer.forwardChannelsLast(xLast, batch: N, height: H, width: W, weight: w, bias: bp,
                                      epilogue: ConvolutionEpilogue(scale: sp, shift: tp, residual: rp, activation: activation),
                                      workspace: workspace, into: &y)
        }
        assertAllNear(y, toChannelsLast(expected, batch: N, channels: Cout, height: ho, width: wo),
                      "\(layer) \(N)×\(H)×\(W)", file: file, line: line)
    }

    func testPointwise() {
        check(Conv2d(inputChannels: 16, outputChannels: 96, kernelSize: 1), batch: 2, height: 7, width: 9,
              bias: false, affine: true, activation: .relu6, seed: 1)
        check(Conv2d(inputChannels: 13, outputChannels: 13, kernelSize: 1), batch: 3, height: 5, width: 3,
              affine: true, residual: true, seed: 2)
    }

    func testStem() {
        for (h, w) in [(14, 12), (13, 17)] {
            let padding = Padding2d.tensorFlowSame(height: h, width: w, kernelHeight: 3, kernelWidth: 3, stride: 2)
            check(Conv2d(inputChannels: 3, outputChannels: 32, kernelSize: 3, stride: 2, padding: padding),
                  batch: 2, height: h, width: w, bias: false, affine: true, activation: .relu6, seed: 10)
        }
        check(Conv2d(inputChannels: 2, outputChannels: 5, kernelHeight: 3, kernelWidth: 5, stride: 1,
                     padding: Padding2d(top: 2, bottom: 0, left: 1, right: 3)),
              batch: 1, height: 7, width: 9, activation: .tanh, seed: 11)
    }

    /// With single-threaded BLAS the GEMM paths spread row blocks over the threads themselves.
    func testSpreadOverThreads() {
        ComputeThreads.withSingleThreadedBLAS {
            check(Conv2d(inputChannels: 24, outputChannels: 40, kernelSize: 1), batch: 3, height: 17, width: 19,
                  affine: true, residual: true, activation: .relu6, seed: 50)
            check(Conv2d(inputChannels: 3, outputChannels: 8, kernelSize: 3, stride: 2,
                         padding: .tensorFlowSame(height: 41, width: 37, kernelHeight: 3, kernelWidth: 3, stride: 2)),
                  batch: 2, height: 41, width: 37, activation: .relu6, seed: 51)
        }
    }

    func testDepthwise() {
        // Channel counts with 32-wide blocks, 8-wide blocks and a ragged tail; odd sizes; TF-same padding.
        for (channels, kernel, stride, h, w) in [(40, 3, 1, 9, 11), (72, 5, 2, 13, 13), (37, 5, 2, 14, 11),
                                                 (8, 3, 2, 15, 10), (5, 5, 1, 6, 7), (64, 5, 2, 3, 4)] {
            let padding = Padding2d.tensorFlowSame(height: h, width: w, kernelHeight: kernel, kernelWidth: kernel, stride: stride)
            let layer = Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: kernel, stride: stride,
                               padding: padding, groups: channels)
            check(layer, batch: 2, height: h, width: w, bias: false, affine: true, activation: .relu6, seed: UInt64(20 + channels))
            check(layer, batch: 1, height: h, width: w, residual: stride == 1, activation: .none, seed: UInt64(30 + channels))
        }
        // Large enough to split across threads.
        check(Conv2d(inputChannels: 48, outputChannels: 48, kernelSize: 3, padding: Padding2d(1), groups: 48),
              batch: 2, height: 31, width: 29, affine: true, residual: true, activation: .relu6, seed: 40)
    }
}
