import Datasets
import Experts
import Foundation
import TensorCore

/// The pairs (z_Φ, z_Θ) of an experiment on a set of images: z_Θ is the
/// autoencoder's posterior mean of the image, z_Φ the query expert's
/// representation of the image's label or caption, or EfficientNet's features
/// of its edge map or masked version. (GAN translation samples its pairs:
/// `ExperimentExperts.facePairs`.)
public struct ExperimentData: Sendable {
    public let pairs: PairDataset
    /// The 20-class label of each pair's image.
    public let labels: [Int]
    /// Text experiments: the caption of each pair.
    public let captions: [String]
}

/// Builds the pairs and conditions of an experiment. Experts are frozen:
/// nothing here is trained.
public final class ExperimentExperts {
    public let kind: ExperimentKind
    private let loadedAutoencoder: ConvolutionalVAE?
    /// Our autoencoder (Θ, Λ); every experiment but GAN translation has one.
    public var autoencoder: ConvolutionalVAE {
        guard let loadedAutoencoder else { preconditionFailure("\(kind.rawValue) has no autoencoder") }
        return loadedAutoencoder
    }
    /// Inpainting: the region hidden from Φ.
    public let mask: MaskRegion
    let store: AssetStore
    let progress: (String) -> Void
    private var text: TextExpert?
    var efficientNet: EfficientNetLite?
    var generator: FaceGenerator?

    public init(kind: ExperimentKind, autoencoder: ConvolutionalVAE, mask: MaskRegion = .lowerHalf,
                store: AssetStore = AssetStore(), progress: @escaping (String) -> Void = { _ in }) {
        self.kind = kind
        loadedAutoencoder = autoencoder
        self.mask = mask
        self.store = store
        self.progress = progress
    }

    /// The experts of an experiment with image queries, without an autoencoder:
    /// GAN translation's (EfficientNet-Lite0 and the DCGAN; `mask` makes the
    /// evaluation's masked queries), or the query side of edges-to-image and inpainting.
    public init(imageQueries kind: ExperimentKind, mask: MaskRegion = .lowerHalf, store: AssetStore = AssetStore(),
                progress: @escaping (String) -> Void = { _ in }) {
        precondition(kind.conditionExpert == "efficientnet-lite0", "\(kind.rawValue) has no image queries")
        self.kind = kind
        loadedAutoencoder = nil
        self.mask = mask
        self.store = store
        self.progress = progress
    }

    /// The MiniLM sentence encoder (loaded once, on first use).
    public func textExpert() throws -> TextExpert {
        if let text { return text }
        let loaded = try TextExpert(store: store, progress: { [progress] in progress("minilm: \($0)") })
        text = loaded
        return loaded
    }

    /// z_Φ of free-text prompts `[N, 384]`.
    public func embed(_ sentences: [String]) throws -> Tensor {
        let expert = try textExpert()
        var rows: [Float] = []
        var start = 0
        while start < sentences.count {
            let batch = Array(sentences[start..<min(sentences.count, start + 64)])
            rows += expert.embed(batch).scalars
            start += batch.count
            if sentences.count > 256 && (start / 64) % 40 == 0 { progress("embedded \(start)/\(sentences.count) captions") }
        }
        return Tensor(shape: [sentences.count, TextExpert.dimension], scalars: rows)
    }

    /// z_Φ of 20-class labels: one-hot for the label expert; for text, the
    /// embedding of one caption per label drawn from the caption generator.
    /// (Image queries have no condition per class.)
    public func conditions(labels: [Int], seed: UInt64) throws -> (condition: Tensor, captions: [String]) {
        switch kind {
        case .edgesToImage, .inpainting, .ganTranslation:
            throw Net2NetError.unsupported("\(kind.rawValue) is conditioned on images, not on classes")
        case .labelToImage:
            return (try LabelExpert.encode(labels), [])
        case .textToImage:
            var generator = SeededGenerator(seed: seed)
            let captions = labels.map { CaptionGenerator().caption(class: $0, adjectives: [], using: &generator) }
            return (try embed(captions), captions)
        }
    }

    /// Pairs for every image of `images` (`captionsPerImage` pairs per image
    /// for text, each with its own caption of the image's class and measured
    /// properties).
    public func pairs(_ images: ImageDataset, attributes: ImageAttributes?, captionsPerImage: Int = 1,
                      seed: UInt64) throws -> ExperimentData {
        guard kind.usesImageData else {
            throw Net2NetError.unsupported("\(kind.rawValue) samples its pairs (facePairs), it has no image data set")
        }
        progress("encoding \(images.count) images with the autoencoder")
        let latents = try autoencoder.encode(images.images)
        let labels = EvaluationClassifier.labels(of: images)
        switch kind {
        case .edgesToImage, .inpainting:
            progress("encoding \(images.count) \(kind == .inpainting ? "masked images" : "edge maps") with EfficientNet-Lite0")
            let condition = try imageFeatures(queryImages(images.images))
            return ExperimentData(pairs: try PairDataset(condition: condition, target: latents), labels: labels, captions: [])
        case .ganTranslation:
            preconditionFailure("unreachable")
        case .labelToImage:
            return ExperimentData(pairs: try PairDataset(condition: try LabelExpert.encode(labels), target: latents),
                                  labels: labels, captions: [])
        case .textToImage:
            guard let attributes else { throw Net2NetError.configuration("text-to-image needs fitted image attributes") }
            let perImage = CaptionGenerator().captions(for: images, attributes: attributes, seed: seed, perImage: captionsPerImage)
            let captions = perImage.flatMap { $0 }
            let rows = perImage.indices.flatMap { i in Array(repeating: i, count: captionsPerImage) }
            progress("embedding \(captions.count) captions with MiniLM")
            let condition = try embed(captions)
            return ExperimentData(pairs: try PairDataset(condition: condition, target: latents.gatherRows(rows)),
                                  labels: rows.map { labels[$0] }, captions: captions)
        }
    }
}
