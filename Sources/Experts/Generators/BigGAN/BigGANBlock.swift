import Foundation
import Layers

/// One `GenBlock` of `pytorch-pretrained-biggan` (BigGAN-deep's residual
/// block, Brock et al. 2019, appendix B), on one channels-last image:
///
///     h = conv_0 (1×1, in → m)   (relu(bn_0(x)))          m = in/4
///     h = up(h) if upsampling                              nearest ×2
///     h = conv_1 (3×3, m → m)    (relu(bn_1(h)))           (bn_1 comes before the upsampling)
///     h = conv_2 (3×3, m → m)    (relu(bn_2(h)))
///     h = conv_3 (1×1, m → out)  (relu(bn_3(h)))
///     y = h + up(x[:, :in/2] if out ≠ in else x)
///
/// The batch norms are conditional (`ConditionalBatchNorm`), the
/// convolutions spectral-normalised with biases; a narrowing block's
/// shortcut keeps the first half of its input channels.
struct BigGANBlock {
    let norms: [ConditionalBatchNorm]
    let convolutions: [FoldedConvolution]
    let upsample: Bool
    let inputChannels: Int
    let outputChannels: Int

    init(_ weights: CheckedStateDict, _ prefix: String, inputChannels: Int, outputChannels: Int, upsample: Bool,
         conditionDimension: Int, configuration: BigGANConfiguration) throws {
        let middle = inputChannels / 4
        let widths = [(inputChannels, middle, 1), (middle, middle, 3), (middle, middle, 3), (middle, outputChannels, 1)]
        norms = try widths.enumerated().map { index, width in
            try ConditionalBatchNorm(weights, "\(prefix).bn_\(index)", channels: width.0,
                                     statistics: configuration.statisticsCount, epsilon: configuration.epsilon,
                                     conditionDimension: conditionDimension)
        }
        convolutions = try widths.enumerated().map { index, width in
            let layer = Conv2d(inputChannels: width.0, outputChannels: width.1, kernelSize: width.2,
                               padding: Padding2d(width.2 / 2))
            return FoldedConvolution(layer: layer, weight: try weights.spectralNormalized("\(prefix).conv_\(index)", layer.weightShape),
                                     bias: try weights.scalars("\(prefix).conv_\(index).bias", [width.1]))
        }
        self.upsample = upsample
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
    }

    /// Im2col floats the 3×3 convolutions need at an input of `H × W`.
    func columnsCount(height H: Int, width W: Int) -> Int {
        let side = upsample ? 2 : 1
        return convolutions.map { $0.columnsCount(height: side * H, width: side * W) }.max()!
    }

    /// The block on one image `x [H, W, in]` → `[H', W', out]` (H' = 2H when upsampling).
    func forward(_ x: [Float], height H: Int, width W: Int, condition: [Float], truncation: Double,
                 columns: FloatBuffer) -> [Float] {
        var h = x
        let pixels = H * W, side = upsample ? 2 : 1
        h.withUnsafeMutableBufferPointer { norms[0].apply($0.baseAddress!, pixels: pixels, condition: condition, truncation: truncation) }
        h = convolutions[0].apply(h, height: H, width: W, columns: columns)
        h.withUnsafeMutableBufferPointer { norms[1].apply($0.baseAddress!, pixels: pixels, condition: condition, truncation: truncation) }
        if upsample { h = h.withUnsafeBufferPointer { upsampleNearest2x($0.baseAddress!, height: H, width: W, channels: inputChannels / 4) } }
        let (H2, W2) = (side * H, side * W)
        h = convolutions[1].apply(h, height: H2, width: W2, columns: columns)
        h.withUnsafeMutableBufferPointer { norms[2].apply($0.baseAddress!, pixels: H2 * W2, condition: condition, truncation: truncation) }
        h = convolutions[2].apply(h, height: H2, width: W2, columns: columns)
        h.withUnsafeMutableBufferPointer { norms[3].apply($0.baseAddress!, pixels: H2 * W2, condition: condition, truncation: truncation) }
        // The shortcut: the first `out` input channels (out = in or in/2), upsampled.
        var shortcut = x
        if outputChannels != inputChannels {
            shortcut = [Float](repeating: 0, count: pixels * outputChannels)
            for p in 0..<pixels {
                for c in 0..<outputChannels { shortcut[p * outputChannels + c] = x[p * inputChannels + c] }
            }
        }
        if upsample {
            shortcut = shortcut.withUnsafeBufferPointer { upsampleNearest2x($0.baseAddress!, height: H, width: W, channels: outputChannels) }
        }
        return convolutions[3].apply(h, height: H2, width: W2, columns: columns, residual: shortcut)
    }
}

extension FoldedConvolution {
    /// `act(conv(x) + b (+ residual))` on one channels-last image `[H, W, Cin]` → `[Ho, Wo, Cout]`.
    func apply(_ x: [Float], height: Int, width: Int, columns: FloatBuffer, residual: [Float]? = nil) -> [Float] {
        let (ho, wo) = outputSize(height: height, width: width)
        var y = [Float](repeating: 0, count: ho * wo * layer.outputChannels)
        precondition(residual == nil || residual!.count == y.count, "residual is not the output's shape")
        x.withUnsafeBufferPointer { input in
            y.withUnsafeMutableBufferPointer { output in
                if let residual {
                    residual.withUnsafeBufferPointer { r in
                        apply(input.baseAddress!, images: 1, height: height, width: width, columns: columns,
                              into: output.baseAddress!, residual: r.baseAddress!)
                    }
                } else {
                    apply(input.baseAddress!, images: 1, height: height, width: width, columns: columns, into: output.baseAddress!)
                }
            }
        }
        return y
    }
}
