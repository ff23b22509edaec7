import Datasets
import Experts
import Flow
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

/// The experts of an experiment, from `ExpertRegistry` by the names of its
/// `ExperimentKind` (Φ = `conditionExpert`, Λ = `targetExpert`), and the pairs
/// and conditions built with them. Experts are frozen: nothing here is trained.
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
    /// Edges-to-image: how the query's edge map is made.
    public let edges: EdgeOperator
    let loading: ExpertLoading
    var progress: (String) -> Void { loading.progress }
    private var loadedConditionEncoder: (any ConditionEncoder)?
    private var loadedDecoder: (any ImageDecoder)?
    private var loadedEdgeDetector: HEDEdgeDetector?

    public init(kind: ExperimentKind, autoencoder: ConvolutionalVAE, mask: MaskRegion = .lowerHalf,
                edges: EdgeOperator = .sobel, store: AssetStore = AssetStore(),
                progress: @escaping (String) -> Void = { _ in }) {
        self.kind = kind
        loadedAutoencoder = autoencoder
        self.mask = mask
        self.edges = edges
        loading = ExpertLoading(store: store, progress: progress)
    }

    /// The experts of an experiment with image queries, without an autoencoder:
    /// GAN translation's (EfficientNet-Lite0 and the DCGAN; `mask` makes the
    /// evaluation's masked queries), or the query side of edges-to-image and inpainting.
    public init(imageQueries kind: ExperimentKind, mask: MaskRegion = .lowerHalf, edges: EdgeOperator = .sobel,
                store: AssetStore = AssetStore(), progress: @escaping (String) -> Void = { _ in }) {
        precondition(kind.queriesAreImages, "\(kind.rawValue) has no image queries")
        self.kind = kind
        loadedAutoencoder = nil
        self.mask = mask
        self.edges = edges
        loading = ExpertLoading(store: store, progress: progress)
    }

    /// The HED edge detector (loaded once, on first use).
    public func edgeDetector() throws -> HEDEdgeDetector {
        if let loadedEdgeDetector { return loadedEdgeDetector }
        let loaded = try ExpertRegistry.edgeDetector(loading: loading)
        loadedEdgeDetector = loaded
        return loaded
    }

    /// Φ, the query expert `kind.conditionExpert` (loaded once, on first use).
    public func conditionEncoder() throws -> any ConditionEncoder {
        if let loadedConditionEncoder { return loadedConditionEncoder }
        let loaded = try ExpertRegistry.conditionEncoder(named: kind.conditionExpert, loading: loading)
        loadedConditionEncoder = loaded
        return loaded
    }

    /// Λ, the decoder of z_Θ: our autoencoder, or the expert `kind.targetExpert`
    /// when the experiment has none (loaded once, on first use).
    public func imageDecoder() throws -> any ImageDecoder {
        if let loadedDecoder { return loadedDecoder }
        let loaded: any ImageDecoder
        if let loadedAutoencoder {
            let description = try ExpertRegistry.description(named: kind.targetExpert, roles: [.imageEncoder])
            loaded = AutoencoderImageEncoder(model: loadedAutoencoder, description: description)
        } else {
            loaded = try ExpertRegistry.imageDecoder(named: kind.targetExpert, loading: loading)
        }
        loadedDecoder = loaded
        return loaded
    }

    /// Φ, τ and Λ of this experiment joined into a `Translator`.
    public func translator(flow: ConditionalFlow) throws -> Translator {
        try Translator(conditionEncoder: try conditionEncoder(), flow: flow, decoder: try imageDecoder())
    }

    /// z_Φ of free-text prompts `[N, 384]` (text experiments).
    public func embed(_ sentences: [String]) throws -> Tensor {
        try conditionEncoder().encode(.text(sentences))
    }

    /// z_Φ of 20-class labels: one-hot for the label expert; for text, the
    /// embedding of one caption per label drawn from the caption generator.
    /// (Image queries have no condition per class.)
    public func conditions(labels: [Int], seed: UInt64) throws -> (condition: Tensor, captions: [String]) {
        let encoder = try conditionEncoder()
        switch encoder.expertDescription.inputKind {
        case .classLabel:
            return (try encoder.encode(.labels(labels)), [])
        case .text:
            var generator = SeededGenerator(seed: seed)
            let captions = labels.map { CaptionGenerator().caption(class: $0, adjectives: [], using: &generator) }
            return (try encoder.encode(.text(captions)), captions)
        case .image, nil:
            throw Net2NetError.unsupported("\(kind.rawValue) is conditioned on images, not on classes")
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
        let encoder = try conditionEncoder()
        switch encoder.expertDescription.inputKind {
        case .image:
            progress("encoding \(images.count) \(kind == .inpainting ? "masked images" : "\(edges.rawValue) edge maps") with EfficientNet-Lite0")
            let condition = try imageFeatures(queryImages(images.images))
            return ExperimentData(pairs: try PairDataset(condition: condition, target: latents), labels: labels, captions: [])
        case .classLabel:
            return ExperimentData(pairs: try PairDataset(condition: try encoder.encode(.labels(labels)), target: latents),
                                  labels: labels, captions: [])
        case .text:
            guard let attributes else { throw Net2NetError.configuration("text-to-image needs fitted image attributes") }
            let perImage = CaptionGenerator().captions(for: images, attributes: attributes, seed: seed, perImage: captionsPerImage)
            let captions = perImage.flatMap { $0 }
            let rows = perImage.indices.flatMap { i in Array(repeating: i, count: captionsPerImage) }
            progress("embedding \(captions.count) captions with MiniLM")
            let condition = try encoder.encode(.text(captions))
            return ExperimentData(pairs: try PairDataset(condition: condition, target: latents.gatherRows(rows)),
                                  labels: rows.map { labels[$0] }, captions: captions)
        case nil:
            throw Net2NetError.unsupported("\(kind.conditionExpert) is not a condition encoder")
        }
    }
}
