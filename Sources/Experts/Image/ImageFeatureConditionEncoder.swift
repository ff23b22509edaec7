import Foundation
import TensorCore

/// An ImageNet-trained network seen as pooled features and a linear
/// classifier on them (EfficientNet-Lite0, ResNet-50).
public protocol ImageFeatureNetwork: AnyObject {
    /// The width F of the pooled features.
    var featureDimension: Int { get }
    /// The number of classes of the classifier.
    var classCount: Int { get }
    /// How the network expects 8-bit pixels scaled.
    var inputNormalization: PixelNormalization { get }
    /// Pooled features `[N, F]` of normalised NCHW images `[N, 3, 224, 224]`.
    func features(_ images: Tensor) throws -> Tensor
    /// Logits `[N, classes]` of features `[N, F]`.
    func classify(features: Tensor) -> Tensor
}

/// Φ for images: an `ImageFeatureNetwork`'s pooled features, z_Φ `[N, F]`.
///
/// `.images` (gray or RGB `[N, C, H, W]` in [-1, 1]) are seen as their 8-bit
/// PNGs resized to 224×224 (`ImageOperators.efficientNetInput`) and run
/// `queriesPerCall` at a time; `.pixels` (8-bit RGB at 224×224, as read from
/// PNG files) are run in one call.
public final class ImageFeatureConditionEncoder: ConditionEncoder {
    public let expertDescription: ExpertDescription
    /// The network, for its logits and classes too.
    public let model: any ImageFeatureNetwork
    /// Images per network call (progress is reported between calls).
    public var queriesPerCall = 16
    /// Progress of long inputs (1000 images or more).
    let progress: (String) -> Void

    public init(model: any ImageFeatureNetwork, description: ExpertDescription, progress: @escaping (String) -> Void = { _ in }) {
        self.model = model
        expertDescription = description
        self.progress = progress
    }

    public var conditionDimension: Int { model.featureDimension }

    public func encode(_ input: ExpertInput) throws -> Tensor {
        try checkKind(input)
        switch input {
        case .pixels(let batch):
            return try model.features(ImageInput.modelInput(batch, normalization: model.inputNormalization))
        case .images(let images):
            return try features(images)
        case .text, .labels:
            return Tensor(zeros: [0, conditionDimension])
        }
    }

    func features(_ images: Tensor) throws -> Tensor {
        let N = images.shape[0], size = images.count / max(N, 1), F = conditionDimension
        var rows: [Float] = []
        rows.reserveCapacity(N * F)
        var start = 0
        let began = Date()
        while start < N {
            let count = min(queriesPerCall, N - start)
            let batch = Tensor(shape: [count] + Array(images.shape.dropFirst()),
                               scalars: Array(images.scalars[(start * size)..<((start + count) * size)]))
            rows += try model.features(ImageOperators.efficientNetInput(batch, normalization: model.inputNormalization)).scalars
            start += count
            if N >= 1000 && ((start / queriesPerCall) % 40 == 0 || start == N) {
                progress("\(expertDescription.name): " + String(format: "%d/%d images (%.0f images/s)", start, N,
                                                                      Double(start) / max(Date().timeIntervalSince(began), 1e-3)))
            }
        }
        return Tensor(shape: [N, F], scalars: rows)
    }
}
