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
    /// Φ's `ExpertRegistry` name (the kind's, or a recipe's `text_expert`).
    public let conditionExpert: String
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
    /// Text → image: the vocabulary of the training captions (and of the class conditions).
    public var captions = CaptionGenerator.Vocabulary.templates
    /// Text → image: give the images of rarer classes more captions, towards
    /// as many pairs per class (`captionCounts`; 0 off, 1 fully balanced).
    public var balanceClasses = 0.0
    /// Text → BigGAN: the generator's truncation, classes and class noise.
    public let bigganRecipe: BigGANRecipe
    let loading: ExpertLoading
    var progress: (String) -> Void { loading.progress }
    private var loadedConditionEncoder: (any ConditionEncoder)?
    private var loadedDecoder: (any ImageDecoder)?
    private var loadedEdgeDetector: HEDEdgeDetector?
    /// Where `pairs` runs its experts: nil, in this process at once; else on a
    /// strided shard per process of a job, cached in chunks (`ShardedRows`).
    /// In one process, a complete cache is read and an incomplete one ignored
    /// (unless `cachesInOneProcess`).
    public var extraction: ShardedRows?

    public init(kind: ExperimentKind, autoencoder: ConvolutionalVAE, mask: MaskRegion = .lowerHalf,
                edges: EdgeOperator = .sobel, conditionExpert: String? = nil, store: AssetStore = AssetStore(),
                progress: @escaping (String) -> Void = { _ in }) {
        self.kind = kind
        self.conditionExpert = conditionExpert ?? kind.conditionExpert
        loadedAutoencoder = autoencoder
        self.mask = mask
        self.edges = edges
        bigganRecipe = BigGANRecipe()
        loading = ExpertLoading(store: store, progress: progress)
    }

    /// The experts of text → BigGAN: the recipe's text expert and the BigGAN
    /// of `weights` (nil: `weightsRequired` on first use of the generator).
    public init(textToBigGAN recipe: BigGANRecipe, weights: URL?, textExpert: String = ExpertName.minilm,
                store: AssetStore = AssetStore(), progress: @escaping (String) -> Void = { _ in }) {
        kind = .textToBigGAN
        conditionExpert = textExpert
        loadedAutoencoder = nil
        mask = .lowerHalf
        edges = .sobel
        bigganRecipe = recipe
        loading = ExpertLoading(store: store, progress: progress, weights: weights)
    }

    /// The experts of an experiment with image queries, without an autoencoder:
    /// GAN translation's (EfficientNet-Lite0 and the DCGAN; `mask` makes the
    /// evaluation's masked queries), or the query side of edges-to-image and inpainting.
    public init(imageQueries kind: ExperimentKind, mask: MaskRegion = .lowerHalf, edges: EdgeOperator = .sobel,
                store: AssetStore = AssetStore(), progress: @escaping (String) -> Void = { _ in }) {
        precondition(kind.queriesAreImages, "\(kind.rawValue) has no image queries")
        self.kind = kind
        conditionExpert = kind.conditionExpert
        loadedAutoencoder = nil
        self.mask = mask
        self.edges = edges
        bigganRecipe = BigGANRecipe()
        loading = ExpertLoading(store: store, progress: progress)
    }

    /// The HED edge detector (loaded once, on first use).
    public func edgeDetector() throws -> HEDEdgeDetector {
        if let loadedEdgeDetector { return loadedEdgeDetector }
        let loaded = try ExpertRegistry.edgeDetector(loading: loading)
        loadedEdgeDetector = loaded
        return loaded
    }

    /// Φ, the query expert `conditionExpert` (loaded once, on first use).
    public func conditionEncoder() throws -> any ConditionEncoder {
        if let loadedConditionEncoder { return loadedConditionEncoder }
        let loaded = try ExpertRegistry.conditionEncoder(named: conditionExpert, loading: loading)
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
        } else if kind == .textToBigGAN {
            loaded = try ExperimentExperts.bigganLatentDecoder(loading: loading, truncation: bigganRecipe.truncation)
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
            let captionGenerator = CaptionGenerator(vocabulary: captions)
            let sentences = labels.map { captionGenerator.caption(class: $0, adjectives: [], using: &generator) }
            return (try encoder.encode(.text(sentences)), sentences)
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
        let pixels = images.images
        let latents = try rowwise("autoencoder", input: pixels, count: images.count) {
            try autoencoder.encode(pixels.gatherRows($0))
        }
        let labels = EvaluationClassifier.labels(of: images)
        let encoder = try conditionEncoder()
        switch encoder.expertDescription.inputKind {
        case .image:
            progress("encoding \(images.count) \(kind == .inpainting ? "masked images" : "\(edges.rawValue) edge maps") with EfficientNet-Lite0")
            // The queries of all images first: a random mask depends on the image's index.
            let queries = try queryImages(pixels)
            let condition = try rowwise(kind.conditionExpert, input: queries, count: images.count) {
                try imageFeatures(queries.gatherRows($0))
            }
            return ExperimentData(pairs: try PairDataset(condition: condition, target: latents), labels: labels, captions: [])
        case .classLabel:
            return ExperimentData(pairs: try PairDataset(condition: try encoder.encode(.labels(labels)), target: latents),
                                  labels: labels, captions: [])
        case .text:
            guard let attributes else { throw Net2NetError.configuration("text-to-image needs fitted image attributes") }
            let counts = ExperimentExperts.captionCounts(labels: labels, perImage: captionsPerImage, balance: balanceClasses)
            let perImage = CaptionGenerator(vocabulary: self.captions).captions(for: images, attributes: attributes, seed: seed,
                                                                               perImage: counts.max() ?? captionsPerImage)
            let captions = perImage.indices.flatMap { i in perImage[i].prefix(counts[i]) }
            let rows = perImage.indices.flatMap { i in Array(repeating: i, count: counts[i]) }
            let condition = try embedCaptions(captions)
            var pairs = try PairDataset(condition: condition, target: latents.gatherRows(rows))
            pairs.groups = rows  // an image's captions are validated together
            return ExperimentData(pairs: pairs, labels: rows.map { labels[$0] }, captions: captions)
        case nil:
            throw Net2NetError.unsupported("\(conditionExpert) is not a condition encoder")
        }
    }
}

extension ExperimentExperts {
    /// Captions per image: `perImage` × (the largest class's image count ÷
    /// the image's class count)^`balance`, rounded, at least 1. With balance
    /// 1 a class of 450 images gets as many pairs as one of 6000 (13 captions
    /// an image), with 0.5 about a third as many (4), with 0 each image gets
    /// `perImage`. An image's captions are the first of its seeded sequence,
    /// whatever the count.
    public static func captionCounts(labels: [Int], perImage: Int, balance: Double) -> [Int] {
        guard balance > 0 else { return Array(repeating: perImage, count: labels.count) }
        var classCount: [Int: Int] = [:]
        for label in labels { classCount[label, default: 0] += 1 }
        let largest = Double(classCount.values.max() ?? 1)
        return labels.map { label in
            perImage * max(1, Int(Foundation.pow(largest / Double(classCount[label]!), balance).rounded()))
        }
    }

    /// z_Φ `[N, Dc]` of captions with the text expert. Captions repeat
    /// (templates × synonyms × adjectives or names): each distinct one is embedded once.
    func embedCaptions(_ captions: [String]) throws -> Tensor {
        let encoder = try conditionEncoder()
        var firstRow: [String: Int] = [:]
        var distinct: [String] = []
        let rowOfCaption = captions.map { caption in
            if let row = firstRow[caption] { return row }
            firstRow[caption] = distinct.count
            distinct.append(caption)
            return distinct.count - 1
        }
        progress("embedding \(distinct.count) distinct captions (of \(captions.count)) with \(conditionExpert)")
        return try rowwise(conditionExpert, input: Data(distinct.joined(separator: "\n").utf8),
                           count: distinct.count) { try encoder.encode(.text($0.map { distinct[$0] })) }
            .gatherRows(rowOfCaption)
    }

    /// A row-wise expert applied to `count` rows: at once in this process, or
    /// through `extraction` (sharded over a job, or read from a complete cache).
    func rowwise(_ name: String, input: Tensor, count: Int, _ compute: ([Int]) throws -> Tensor) throws -> Tensor {
        let bytes = input.scalars.withUnsafeBytes { Data($0) }
        return try rowwise(name, input: bytes, count: count, compute)
    }

    func rowwise(_ name: String, input: Data, count: Int, _ compute: ([Int]) throws -> Tensor) throws -> Tensor {
        guard let extraction else { return try compute(Array(0..<count)) }
        let key = ShardedRows.key(name, input: input)
        guard extraction.communicator.usesMPI || extraction.cachesInOneProcess
                || extraction.isComplete(count: count, key: key) else {
            return try compute(Array(0..<count))
        }
        return try extraction.map(count: count, key: key, compute: compute)
    }
}
