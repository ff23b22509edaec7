import Foundation
import Layers
import TensorCore

/// The architecture of our own autoencoder g = (Θ, Λ) for 28×28 gray images.
public struct AutoencoderArchitecture: Codable, Equatable, Sendable {
    /// Width of the latent z.
    public var latentDimension = 64
    /// Channels of the first convolution; the next two have 2× and 4× as many.
    public var width = 32
    /// Slope of the leaky ReLUs.
    public var slope: Float = 0.2

    public init(latentDimension: Int = 64, width: Int = 32) {
        self.latentDimension = latentDimension
        self.width = width
    }

    enum CodingKeys: String, CodingKey {
        case latentDimension = "latent_dim"
        case width
        case slope
    }

    public var problems: [String] {
        var p: [String] = []
        // Upper bounds far above any model here keep a corrupt checkpoint's
        // metadata from asking for gigabytes before its tensors are read.
        if latentDimension < 1 || latentDimension > 4096 { p.append("latent_dim must be in 1…4096 (got \(latentDimension))") }
        if width < 1 || width > 1024 { p.append("width must be in 1…1024 (got \(width))") }
        if !(slope > 0 && slope < 1) { p.append("slope must be in (0, 1) (got \(slope))") }
        return p
    }

    /// Θ: image `[1, 28, 28]` → `(μ, log σ²)` `[2·Z]`.
    ///
    ///     conv 4×4/2 → 14×14×w → LReLU → conv 4×4/2 → 7×7×2w → BN → LReLU
    ///     → conv 3×3/2 → 4×4×4w → BN → LReLU → flatten → linear → 2Z
    var encoderLayers: [SequentialLayer] {
        let w = width
        return [
            .convolution(outputChannels: w, kernelSize: 4, stride: 2, padding: 1), .leakyReLU(slope: slope),
            .convolution(outputChannels: 2 * w, kernelSize: 4, stride: 2, padding: 1), .batchNorm(), .leakyReLU(slope: slope),
            .convolution(outputChannels: 4 * w, kernelSize: 3, stride: 2, padding: 1), .batchNorm(), .leakyReLU(slope: slope),
            .flatten, .linear(outputDimension: 2 * latentDimension),
        ]
    }

    /// Λ: z `[Z]` → image `[1, 28, 28]` in [-1, 1], the mirror of Θ.
    var decoderLayers: [SequentialLayer] {
        let w = width
        return [
            .linear(outputDimension: 4 * w * 16), .unflatten(channels: 4 * w, height: 4, width: 4),
            .batchNorm(), .leakyReLU(slope: slope),
            .transposedConvolution(outputChannels: 2 * w, kernelSize: 3, stride: 2, padding: 1), .batchNorm(), .leakyReLU(slope: slope),
            .transposedConvolution(outputChannels: w, kernelSize: 4, stride: 2, padding: 1), .batchNorm(), .leakyReLU(slope: slope),
            .transposedConvolution(outputChannels: 1, kernelSize: 4, stride: 2, padding: 1), .tanh,
        ]
    }
}

/// Our own generic autoencoder (paper §4.2): a convolutional VAE whose
/// encoder Θ predicts the mean and log-variance of a Gaussian posterior
/// q(z|x) and whose decoder Λ maps z back to an image, trained on Fashion-MNIST
/// and MNIST digits (28×28 gray, NCHW in [-1, 1]).
///
/// Loss per image (nats), after Dai & Wipf (2019), with a learned scalar output
/// scale γ = exp(`log_gamma`) and D = 784 pixels:
///
///     L = ‖x − Λ(z)‖² / (2γ²) + D·log γ + (D/2)·log 2π + β·KL(q(z|x) ‖ N(0, I)),
///     z = μ + σ·ε,  KL = ½ Σ (μ² + σ² − 1 − log σ²).
///
/// Parameters are named as the same `nn.Sequential` stacks in PyTorch would
/// be (`encoder.0.weight`, …, `decoder.12.bias`, `log_gamma`).
public final class ConvolutionalVAE: @unchecked Sendable {
    public static let imageShape = [1, 28, 28]
    public static let pixelCount = 784

    public let architecture: AutoencoderArchitecture
    public let encoder: Sequential
    public let decoder: Sequential
    public let layout: ParameterLayout
    public let bufferLayout: ParameterLayout
    public let parameters: FloatBuffer
    public let buffers: FloatBuffer
    /// Offset of the scalar log γ in `parameters`.
    public let logGammaOffset: Int

    public var latentDimension: Int { architecture.latentDimension }

    /// A freshly initialised autoencoder (PyTorch's default initialisation, γ = 1).
    public init(architecture: AutoencoderArchitecture, seed: UInt64 = 0) {
        precondition(architecture.problems.isEmpty, architecture.problems.joined(separator: "; "))
        self.architecture = architecture
        var layout = ParameterLayout(), buffers = ParameterLayout()
        encoder = Sequential("encoder", inputShape: ConvolutionalVAE.imageShape, layers: architecture.encoderLayers,
                             parameters: &layout, buffers: &buffers)
        decoder = Sequential("decoder", inputShape: [architecture.latentDimension], layers: architecture.decoderLayers,
                             parameters: &layout, buffers: &buffers)
        logGammaOffset = layout.add("log_gamma", shape: [1])
        self.layout = layout
        bufferLayout = buffers
        parameters = FloatBuffer(count: layout.count)
        self.buffers = FloatBuffer(count: buffers.count)
        var generator = SeededGenerator(seed: seed)
        encoder.initialize(parameters.pointer, buffers: self.buffers.pointer, using: &generator)
        decoder.initialize(parameters.pointer, buffers: self.buffers.pointer, using: &generator)
        parameters.pointer[logGammaOffset] = 0
    }

    public var parameterCount: Int { layout.entries.reduce(0) { $0 + $1.count } }

    /// The output scale γ.
    public var gamma: Float { Foundation.exp(parameters.pointer[logGammaOffset]) }

    // MARK: inference

    /// Posterior means μ (or, with `sample`, draws μ + σ·ε) `[N, Z]` of images `[N, 1, 28, 28]`.
    public func encode(_ images: Tensor, sample: Bool = false, seed: UInt64 = 0) throws -> Tensor {
        try checkImages(images)
        let (mean, logVariance) = posterior(images)
        guard sample else { return mean }
        var generator = SeededGenerator(seed: seed)
        let noise = generator.normalTensor(mean.shape)
        var z = mean
        for i in 0..<z.count {
            z.scalars[i] += Foundation.exp(0.5 * logVariance.scalars[i]) * noise.scalars[i]
        }
        return z
    }

    /// `(μ, log σ²)`, each `[N, Z]`, in inference mode.
    public func posterior(_ images: Tensor) -> (mean: Tensor, logVariance: Tensor) {
        let N = images.shape[0], Z = latentDimension
        var mean = Tensor(zeros: [N, Z]), logVariance = Tensor(zeros: [N, Z])
        images.scalars.withUnsafeBufferPointer { x in
            encoder.inferInChunks(x.baseAddress!, count: N, parameters: parameters.pointer, buffers: buffers.pointer) { first, n, h, _ in
                for r in 0..<n {
                    for j in 0..<Z {
                        mean.scalars[(first + r) * Z + j] = h[r * 2 * Z + j]
                        logVariance.scalars[(first + r) * Z + j] = h[r * 2 * Z + Z + j]
                    }
                }
            }
        }
        return (mean, logVariance)
    }

    /// Images `[N, 1, 28, 28]` in [-1, 1] decoded from latents `[N, Z]`.
    public func decode(_ latents: Tensor) throws -> Tensor {
        guard latents.rank == 2, latents.shape[1] == latentDimension else {
            throw ExpertError.badInput("the autoencoder decodes z of shape [N, \(latentDimension)], got \(latents.shape)")
        }
        guard latents.isFinite else { throw ExpertError.badInput("z contains NaN or infinite values") }
        let N = latents.shape[0], P = ConvolutionalVAE.pixelCount
        var images = Tensor(zeros: [N, 1, 28, 28])
        latents.scalars.withUnsafeBufferPointer { z in
            images.scalars.withUnsafeMutableBufferPointer { out in
                decoder.inferInChunks(z.baseAddress!, count: N, parameters: parameters.pointer, buffers: buffers.pointer) { first, n, y, _ in
                    (out.baseAddress! + first * P).update(from: y, count: n * P)
                }
            }
        }
        return images
    }

    func checkImages(_ images: Tensor) throws {
        guard images.rank == 4, Array(images.shape.dropFirst()) == ConvolutionalVAE.imageShape else {
            throw ExpertError.badInput("the autoencoder takes images of shape [N, 1, 28, 28], got \(images.shape)")
        }
        guard images.isFinite else { throw ExpertError.badInput("the images contain NaN or infinite values") }
    }
}
