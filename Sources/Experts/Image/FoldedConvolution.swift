import Foundation
import Layers
import TensorCore

/// A convolution with its inference BatchNorm folded in, run channels-last:
/// `y = act(conv(x, W') + b')` with `W'[o] = scale[o]·W[o]`,
/// `b'[o] = scale[o]·b[o] + shift[o]` (`ChannelAffine`), and optionally a
/// residual added before the activation. (Without a BatchNorm, W' = W and b' = b.)
struct FoldedConvolution {
    let layer: Conv2d
    /// `Conv2d.channelsLastWeight` layout.
    let weight: [Float]
    let bias: [Float]
    let activation: ConvolutionActivation

    /// Reads `convolution.weight` (of `layer.weightShape`; `convolution.bias`
    /// too when `hasBias`) and the BatchNorm `norm` from `weights`, and folds them.
    init(_ weights: CheckedStateDict, convolution: String, norm: String, layer: Conv2d, epsilon: Float,
         activation: ConvolutionActivation, hasBias: Bool = false) throws {
        var weight = try weights.scalars("\(convolution).weight", layer.weightShape)
        let convolutionBias = hasBias ? try weights.scalars("\(convolution).bias", [layer.outputChannels]) : nil
        let affine = try weights.batchNorm(norm, channels: layer.outputChannels, epsilon: epsilon)
        bias = affine.fold(intoConvolutionWeight: &weight, bias: convolutionBias)
        self.weight = layer.channelsLastWeight(weight)
        self.layer = layer
        self.activation = activation
    }

    /// A convolution with weight `[Cout, Cin, kH, kW]` and bias `[Cout]` as they are.
    init(layer: Conv2d, weight: [Float], bias: [Float], activation: ConvolutionActivation = .none) {
        precondition(weight.count == layer.weightShape.reduce(1, *) && bias.count == layer.outputChannels)
        self.layer = layer
        self.weight = layer.channelsLastWeight(weight)
        self.bias = bias
        self.activation = activation
    }

    /// Floats of im2col rows worth giving `apply` for `images` images of `H × W`:
    /// blocks of up to 4096 output pixels per thread are enough for full-size GEMMs.
    func columnsCount(height: Int, width: Int, images: Int = 1) -> Int {
        guard !layer.isPointwise && !layer.isDepthwise else { return 0 }
        let (ho, wo) = outputSize(height: height, width: width)
        let K = layer.inputChannels * layer.kernelHeight * layer.kernelWidth
        return K * max(wo, min(images * ho * wo, 4096 * Parallel.threadCount))
    }

    /// Output size for an `H × W` input.
    func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        layer.outputSize(height: height, width: width)
    }

    /// `y = act(conv(x) + b' (+ residual))` on `images` NHWC images of `H × W`;
    /// `columns` holds at least `layer.channelsLastWorkspaceCount(height:width:)` floats.
    func apply(_ x: UnsafePointer<Float>, images: Int, height: Int, width: Int, columns: FloatBuffer,
               into y: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>? = nil) {
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                layer.forwardChannelsLast(x, batch: images, height: height, width: width, weight: w.baseAddress!,
                                          bias: b.baseAddress!,
                                          epilogue: ConvolutionEpilogue(residual: residual, activation: activation),
                                          workspace: columns, into: y)
            }
        }
    }
}
