import Foundation
import TensorCore

/// Λ for translation into BigGAN's class-conditional latent space (paper
/// §4.1.1, Tab. 1/2): z_Θ = [z, e] `[N, 2·z_dim]`, the generator's own
/// condition vector — the noise z and a class embedding e (for class y,
/// e = embeddings · onehot(y)) — decoded at one truncation to images
/// `[N, 3, S, S]` in [-1, 1]. e is used as given, so a point between two
/// classes' embeddings decodes to a mixture, as BigGAN allows.
public final class BigGANLatentDecoder: ImageDecoder {
    public let expertDescription: ExpertDescription
    public let model: BigGAN
    /// The truncation of the BatchNorm statistics, in (0, 1] (z is expected at the same truncation).
    public let truncation: Double

    /// `description` is the `biggan` expert's; the width and image shape are this model's.
    public init(model: BigGAN, truncation: Double, description: ExpertDescription) throws {
        guard truncation > 0 && truncation <= 1 else { throw ExpertError.badInput("the truncation must be in (0, 1], got \(truncation)") }
        self.model = model
        self.truncation = truncation
        expertDescription = ExpertDescription(
            name: description.name, role: .imageDecoder, dimension: 2 * model.latentDimension,
            imageShape: [3, model.imageSize, model.imageSize], assets: description.assets,
            summary: description.summary + ", decoding [z, class embedding]", weightsNeeded: description.weightsNeeded)
    }

    public var latentDimension: Int { 2 * model.latentDimension }

    public func decode(_ latents: Tensor) throws -> Tensor {
        try model.generate(conditions: latents, truncation: truncation)
    }
}
