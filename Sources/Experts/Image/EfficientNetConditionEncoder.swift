import Foundation
import TensorCore

/// Φ for images: EfficientNet-Lite0's pooled features, z_Φ `[N, 1280]`.
///
/// `.images` (gray or RGB `[N, C, H, W]` in [-1, 1]) are seen as their 8-bit
/// PNGs resized to 224×224 (`ImageOperators.efficientNetInput`) and run
/// `queriesPerCall` at a time; `.pixels` (8-bit RGB at 224×224, as read from
/// PNG files) are run in one call.
public final class EfficientNetConditionEncoder: ConditionEncoder {
    public let expertDescription: ExpertDescription
    /// The network, for its logits and classes too.
    public let model: EfficientNetLite
    /// Images per network call (progress is reported between calls).
    public var queriesPerCall = 16
    /// Progress of long inputs (1000 images or more).
    let progress: (String) -> Void

    public init(model: EfficientNetLite, description: ExpertDescription, progress: @escaping (String) -> Void = { _ in }) {
        self.model = model
        expertDescription = description
        self.progress = progress
    }

    public var conditionDimension: Int { EfficientNetLite.featureDimension }

    public func encode(_ input: ExpertInput) throws -> Tensor {
        try checkKind(input)
        switch input {
        case .pixels(let batch):
            return try model.features(ImageInput.modelInput(batch))
        case .images(let images):
            return try features(images)
        case .text, .labels:
            return Tensor(zeros: [0, conditionDimension])
        }
    }

    func features(_ images: Tensor) throws -> Tensor {
        let N = images.shape[0], size = images.count / max(N, 1)
        var rows: [Float] = []
        rows.reserveCapacity(N * EfficientNetLite.featureDimension)
        var start = 0
        let began = Date()
        while start < N {
            let count = min(queriesPerCall, N - start)
            let batch = Tensor(shape: [count] + Array(images.shape.dropFirst()),
                               scalars: Array(images.scalars[(start * size)..<((start + count) * size)]))
            rows += try model.features(ImageOperators.efficientNetInput(batch)).scalars
            start += count
            if N >= 1000 && ((start / queriesPerCall) % 40 == 0 || start == N) {
                progress("\(expertDescription.name): " + String(format: "%d/%d images (%.0f images/s)", start, N,
                                                                      Double(start) / max(Date().timeIntervalSince(began), 1e-3)))
            }
        }
        return Tensor(shape: [N, EfficientNetLite.featureDimension], scalars: rows)
    }
}
