import Foundation
import TensorCore

/// Λ for GAN translation: the DCGAN face generator (`FaceGenerator`),
/// z_Θ `[N, 100]` → faces `[N, 3, 64, 64]` in [-1, 1], `imagesPerCall` at a time.
public final class FaceImageDecoder: ImageDecoder {
    public let expertDescription: ExpertDescription
    /// The generator network.
    public let model: FaceGenerator
    /// Latents per generator call.
    public var imagesPerCall = 64

    public init(model: FaceGenerator, description: ExpertDescription) {
        self.model = model
        expertDescription = description
    }

    public var latentDimension: Int { FaceGenerator.latentDimension }

    public func decode(_ latents: Tensor) throws -> Tensor {
        guard latents.rank == 2, latents.shape[1] == latentDimension else { return try model.generate(latents) }
        let N = latents.shape[0], D = latentDimension
        var scalars: [Float] = []
        var start = 0
        while start < N {
            let count = min(imagesPerCall, N - start)
            scalars += try model.generate(Tensor(shape: [count, D], scalars: Array(latents.scalars[(start * D)..<((start + count) * D)]))).scalars
            start += count
        }
        let side = FaceGenerator.imageSize
        return Tensor(shape: [N, 3, side, side], scalars: scalars)
    }
}
