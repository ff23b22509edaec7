import Foundation
import TensorCore

/// Λ from BigGAN: z `[N, z_dim]` → images `[N, 3, S, S]` in [-1, 1] of one
/// class at one truncation (both set before decoding).
public final class BigGANImageDecoder: ImageDecoder {
    public let expertDescription: ExpertDescription
    public let model: BigGAN
    /// The ImageNet class every image is drawn from.
    public private(set) var classIndex = 0
    /// The truncation of the noise and of the BatchNorm statistics, in (0, 1].
    public private(set) var truncation = 0.4

    public init(model: BigGAN, description: ExpertDescription) {
        self.model = model
        expertDescription = description
    }

    public var latentDimension: Int { model.latentDimension }

    /// Sets the class and truncation; values outside `0..<classes` and (0, 1] are errors.
    public func condition(classIndex: Int, truncation: Double) throws {
        guard (0..<model.classCount).contains(classIndex) else {
            throw ExpertError.badInput("--class \(classIndex) is not in 0…\(model.classCount - 1)")
        }
        guard truncation > 0 && truncation <= 1 else { throw ExpertError.badInput("--truncation must be in (0, 1], got \(truncation)") }
        self.classIndex = classIndex
        self.truncation = truncation
    }

    /// `count` latents as the model expects them at the current truncation.
    public func randomLatents(count: Int, seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return model.truncatedNoise(count: count, truncation: truncation, using: &generator)
    }

    public func decode(_ latents: Tensor) throws -> Tensor {
        let N = latents.rank == 2 ? latents.shape[0] : 0
        return try model.generate(latents, classes: try model.oneHot(Array(repeating: classIndex, count: N)), truncation: truncation)
    }
}
