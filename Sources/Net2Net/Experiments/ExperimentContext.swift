import Datasets
import Experts
import Flow
import Foundation
import TensorCore

/// Everything an experiment's commands need besides τ: its recipe, the
/// shipped (or given) autoencoder, the 28×28 training and test images, and its
/// experts. The GAN translations have no image data set and no autoencoder:
/// their pairs are sampled.
public struct ExperimentContext {
    public let recipe: ExperimentRecipe
    public let autoencoder: ConvolutionalVAE?
    public let train: ImageDataset
    public let test: ImageDataset
    public let experts: ExperimentExperts

    /// Loads the data and the experts of `recipe`; `autoencoder` is a
    /// checkpoint other than the shipped one.
    public init(recipe: ExperimentRecipe, autoencoder url: URL?, store: AssetStore = AssetStore(),
                progress: @escaping (String) -> Void = { _ in }) throws {
        self.recipe = recipe
        guard recipe.kind.usesImageData else {
            autoencoder = nil
            train = ImageDataset(images: Tensor(zeros: [0, 1, 28, 28]), classLabels: [], domains: [])
            test = train
            if recipe.kind == .textToBigGAN {
                experts = ExperimentExperts(textToBigGAN: recipe.biggan, weights: try recipe.biggan.requireWeights(source: "recipe"),
                                            textExpert: recipe.textExpert, store: store, progress: progress)
                // The generator first: missing or bad weights fail before any other work.
                _ = try experts.bigganClasses()
            } else {
                experts = ExperimentExperts(imageQueries: recipe.kind, mask: recipe.maskRegion, edges: recipe.edges, store: store,
                                            progress: progress)
            }
            return
        }
        let model = try ConvolutionalVAE.load(url ?? ShippedModels.autoencoder).model
        autoencoder = model
        train = try ImageDataset.fashionAndDigits(.train, store: store, progress: progress)
        test = try ImageDataset.fashionAndDigits(.test, store: store, progress: progress)
        experts = ExperimentExperts(kind: recipe.kind, autoencoder: model, mask: recipe.maskRegion, edges: recipe.edges,
                                    conditionExpert: recipe.conditionExpert, store: store, progress: progress)
        experts.captions = recipe.captions
        experts.balanceClasses = recipe.balanceClasses
    }

    /// The first test image of each of the 20 classes.
    public var oneTestImagePerClass: ImageDataset {
        let labels = EvaluationClassifier.labels(of: test)
        return test.subset((0..<EvaluationClassifier.classCount).compactMap { labels.firstIndex(of: $0) })
    }

    /// The recipe's training images: all, or a subset drawn by the flow seed.
    public var trainingImages: ImageDataset {
        guard recipe.trainImages > 0 && recipe.trainImages < train.count else { return train }
        var generator = SeededGenerator(seed: recipe.flow.seed &+ SeedStreams.trainingSubset)
        return train.subset(Array(generator.permutation(train.count).prefix(recipe.trainImages)).sorted())
    }

    /// The test images: all, or (`count` > 0) a subset drawn from `seed`.
    public func testImages(count: Int, seed: UInt64) -> ImageDataset {
        guard count > 0 && count < test.count else { return test }
        var generator = SeededGenerator(seed: seed &+ SeedStreams.testSubset)
        return test.subset(Array(generator.permutation(test.count).prefix(count)).sorted())
    }

    /// The recipe's training pairs, and for text the caption attributes fitted
    /// on the training images: built from the images with the frozen experts,
    /// or for GAN translation sampled (z ~ N(0, I), the DCGAN's face, its features).
    public func trainingPairs() throws -> (pairs: PairDataset, attributes: ImageAttributes?) {
        if recipe.kind == .textToBigGAN {
            return (try experts.bigganPairs(count: recipe.pairs, seed: recipe.flow.seed).pairs, nil)
        }
        guard recipe.kind.usesImageData else {
            experts.progress("sampling \(recipe.pairs) pairs: z ~ N(0, I), the DCGAN's face, its EfficientNet features")
            return (try experts.facePairs(count: recipe.pairs, seed: recipe.flow.seed).pairs, nil)
        }
        let images = trainingImages
        let attributes = recipe.kind == .textToImage ? ImageAttributes(fitting: images) : nil
        let data = try experts.pairs(images, attributes: attributes, captionsPerImage: recipe.captionsPerImage,
                                     seed: recipe.flow.seed)
        return (data.pairs, attributes)
    }

    /// The sample grid written after training: one row per class (label and
    /// text), per test image of each class (edges and inpainting), or per face
    /// query (GAN translation).
    public func writeSampleGrid(flow: ConditionalFlow, to url: URL) throws {
        switch recipe.kind {
        case .labelToImage, .textToImage:
            try ExperimentGrids.classGrid(flow: flow, experts: experts, columns: 10, seed: 0, to: url)
        case .edgesToImage, .inpainting:
            try ExperimentGrids.queryGrid(flow: flow, experts: experts, images: oneTestImagePerClass, columns: 8, seed: 0, to: url)
        case .ganTranslation:
            try ExperimentGrids.faceGrid(flow: flow, experts: experts, faces: 2, columns: 6, seed: SeedStreams.faceGrid, to: url)
        case .textToBigGAN:
            // One row per class (the first 8 of the recipe's), "a photo of a <its first name>".
            let (ids, names) = try experts.bigganClasses()
            let prompts = ids.prefix(8).map { BigGANPairs.caption("a photo of a {}", name: BigGANPairs.names(names[$0])[0]) }
            try ExperimentGrids.promptGrid(flow: flow, experts: experts, prompts: prompts, columns: 4, seed: 0, to: url)
        }
    }

    /// The default output directory of a recipe file: runs/<its name without extension>.
    public static func defaultDirectory(_ recipePath: String) -> String {
        "runs/" + URL(fileURLWithPath: recipePath).deletingPathExtension().lastPathComponent
    }
}
