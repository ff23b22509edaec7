import Foundation
import TensorCore

/// Θ and Λ for the 28×28 experiments: our convolutional VAE, images
/// `[N, 1, 28, 28]` in [-1, 1] ↔ z_Θ `[N, 64]` (the posterior mean, or a draw).
public final class AutoencoderImageEncoder: ImageEncoder {
    public let expertDescription: ExpertDescription
    /// The autoencoder.
    public let model: ConvolutionalVAE

    public init(model: ConvolutionalVAE, description: ExpertDescription) {
        self.model = model
        expertDescription = description
    }

    public var latentDimension: Int { model.latentDimension }

    public func decode(_ latents: Tensor) throws -> Tensor {
        try model.decode(latents)
    }

    public func encode(_ images: Tensor, sampleSeed: UInt64?) throws -> Tensor {
        try model.encode(images, sample: sampleSeed != nil, seed: sampleSeed ?? 0)
    }
}
