import Experts
import Foundation

/// The experts of an experiment: the query expert Φ and the target z_Θ, our
/// autoencoder's latent, or for `ganTranslation` the DCGAN's latent itself.
public enum ExperimentKind: String, Codable, CaseIterable, Sendable {
    /// Φ = one-hot class (10 fashion classes + 10 digits), paper §4.3 / Tab. 5.
    case labelToImage = "label-to-image"
    /// Φ = MiniLM sentence embedding of a caption, paper §4.1.1.
    case textToImage = "text-to-image"
    /// Φ = EfficientNet-Lite0 features of the image's Sobel edge map, paper §4.2 / Tab. 3c.
    case edgesToImage = "edges-to-image"
    /// Φ = EfficientNet-Lite0 features of the image with a region masked out, paper §4.2 / Tab. 3d.
    case inpainting
    /// Φ = EfficientNet-Lite0 features of a DCGAN face, z_Θ = the DCGAN latent
    /// that made it (Θ = identity, pairs sampled from z ~ N(0, I)), paper §4.1.2.
    case ganTranslation = "gan-translation"
    /// Φ = sentence embedding of a caption naming an ImageNet class, z_Θ =
    /// BigGAN's condition vector [z, e_y] (truncated noise and the class's
    /// embedding; pairs sampled, no data set), Λ = BigGAN, paper §4.1.1 / Tab. 1, 2.
    case textToBigGAN = "text-to-biggan"

    /// The condition expert's name (`ExpertRegistry`), as stored in checkpoints.
    public var conditionExpert: String {
        switch self {
        case .labelToImage: return ExpertName.label
        case .textToImage, .textToBigGAN: return ExpertName.minilm
        case .edgesToImage, .inpainting, .ganTranslation: return ExpertName.efficientNetLite0
        }
    }

    /// The target expert's name: our autoencoder, or the generator whose latent z_Θ is.
    public var targetExpert: String {
        switch self {
        case .ganTranslation: return ExpertName.dcganFaces
        case .textToBigGAN: return ExpertName.biggan
        case .labelToImage, .textToImage, .edgesToImage, .inpainting: return ExpertName.autoencoder
        }
    }

    /// Whether the queries are images (the condition expert reads images).
    public var queriesAreImages: Bool {
        (try? ExpertRegistry.description(named: conditionExpert, roles: [.conditionEncoder]))?.inputKind == .image
    }

    /// Whether the pairs come from the 28×28 data sets (all but the GAN translations, which sample them).
    public var usesImageData: Bool { self != .ganTranslation && self != .textToBigGAN }

    /// Whether Φ is the recipe's `text_expert`.
    public var readsText: Bool { self == .textToImage || self == .textToBigGAN }
}

/// A YAML recipe for one experiment: the recipe keys below plus every flow
/// training key of `TrainingConfiguration` (`hidden_dim`, `n_flows`, `steps`…).
///
///     experiment: text-to-image    # label-to-image, edges-to-image, inpainting, gan-translation
///     train_images: 20000          # a seeded subset of the 64 500 training images (0: all)
///     captions_per_image: 1        # text-to-image: captions drawn per image
///     captions: described          # text-to-image: caption vocabulary, templates (default), wordnet or described
///     balance_classes: 0.5         # text-to-image: more captions for images of rarer classes (0 … 1, or true = 1)
///     text_expert: minilm          # text-to-image, text-to-biggan: Φ, minilm (384-d) or mpnet (768-d)
///     mask: lower-half             # inpainting: lower-half, upper-half or random-box
///     edges: sobel                 # edges-to-image: sobel or hed (the learned edge detector)
///     pairs: 8000                  # gan-translation, text-to-biggan: pairs sampled
///     weights: biggan-deep-128/    # text-to-biggan: BigGAN's model directory (user-supplied)
///     truncation: 0.4              # text-to-biggan: of the noise and BigGAN's statistics
///     classes: [1, 207, 963]       # text-to-biggan: ImageNet class ids, or all
///     class_noise: 0.02            # text-to-biggan: dequantisation of e, × its RMS
public struct ExperimentRecipe: Sendable, Equatable {
    public var kind: ExperimentKind = .labelToImage
    public var trainImages = 0
    public var captionsPerImage = 1
    /// Text → image: the caption generator's vocabulary.
    public var captions = CaptionGenerator.Vocabulary.templates
    /// Text → image: how far captions per image are scaled towards equal pairs per
    /// class (`ExperimentExperts.captionCounts`): 0 not at all, 1 fully.
    public var balanceClasses = 0.0
    /// Inpainting: the masked region (`MaskRegion.named`).
    public var mask = "lower-half"
    /// GAN translation: the number of sampled pairs.
    public var pairs = 8000
    /// Text → image: the text expert Φ (an `ExpertRegistry` name reading text).
    public var textExpert = ExpertName.minilm
    /// Edges-to-image: how the query's edge map is made.
    public var edges = EdgeOperator.sobel
    /// Text → BigGAN: the generator and how its pairs are drawn (`BigGANRecipe`).
    public var biggan = BigGANRecipe()
    /// The flow and its training loop.
    public var flow = TrainingConfiguration()

    public static let recipeKeys = ["experiment", "train_images", "captions_per_image", "captions", "balance_classes", "mask", "pairs", "edges", "text_expert"]
        + BigGANRecipe.keys

    /// Φ's name: the recipe's text expert for the text experiments, else the kind's.
    public var conditionExpert: String { kind.readsText ? textExpert : kind.conditionExpert }

    /// Inpainting's mask; random boxes are drawn from the flow seed.
    public var maskRegion: MaskRegion { MaskRegion.named(mask, seed: flow.seed)! }

    public init() {}

    /// Reads a recipe; flow keys go to `TrainingConfiguration` (same checks, same messages).
    public static func load(yaml: String?, source: String = "recipe", overrides: [String] = []) throws -> ExperimentRecipe {
        var values = try YAMLSettings.values(yaml: yaml, source: source, overrides: overrides)
        var recipe = ExperimentRecipe()
        if let value = values.removeValue(forKey: "experiment") {
            guard let kind = ExperimentKind(rawValue: "\(value)") else {
                throw Net2NetError.configuration("\(source): 'experiment' must be one of \(ExperimentKind.allCases.map(\.rawValue).joined(separator: ", ")), got \(value)")
            }
            recipe.kind = kind
        }
        func count(_ key: String, minimum: Int) throws -> Int? {
            guard let value = values.removeValue(forKey: key) else { return nil }
            guard let n = value as? Int, n >= minimum else {
                throw Net2NetError.configuration("\(source): '\(key)' must be an integer ≥ \(minimum), got \(value)")
            }
            return n
        }
        recipe.trainImages = try count("train_images", minimum: 0) ?? recipe.trainImages
        recipe.captionsPerImage = try count("captions_per_image", minimum: 1) ?? recipe.captionsPerImage
        recipe.pairs = try count("pairs", minimum: 2) ?? recipe.pairs
        if let value = values.removeValue(forKey: "mask") {
            guard MaskRegion.named("\(value)", seed: 0) != nil else {
                throw Net2NetError.configuration("\(source): 'mask' must be one of \(MaskRegion.names.joined(separator: ", ")), got \(value)")
            }
            recipe.mask = "\(value)"
        }
        if let value = values.removeValue(forKey: "captions") {
            guard let vocabulary = CaptionGenerator.Vocabulary(rawValue: "\(value)") else {
                throw Net2NetError.configuration("\(source): 'captions' must be one of \(CaptionGenerator.Vocabulary.allCases.map(\.rawValue).joined(separator: ", ")), got \(value)")
            }
            recipe.captions = vocabulary
        }
        if let value = values.removeValue(forKey: "balance_classes") {
            if let flag = value as? Bool {
                recipe.balanceClasses = flag ? 1 : 0
            } else if let number = (value as? NSNumber)?.doubleValue ?? Double("\(value)"), number >= 0, number <= 1 {
                recipe.balanceClasses = number
            } else {
                throw Net2NetError.configuration("\(source): 'balance_classes' must be a number in [0, 1] (or true, false), got \(value)")
            }
        }
        if let value = values.removeValue(forKey: "text_expert") {
            let readers = ExpertRegistry.names(reading: .text)
            guard readers.contains("\(value)") else {
                throw Net2NetError.configuration("\(source): 'text_expert' must be one of \(readers.joined(separator: ", ")), got \(value)")
            }
            recipe.textExpert = "\(value)"
        }
        if let value = values.removeValue(forKey: "edges") {
            guard let edges = EdgeOperator(rawValue: "\(value)") else {
                throw Net2NetError.configuration("\(source): 'edges' must be one of \(EdgeOperator.allCases.map(\.rawValue).joined(separator: ", ")), got \(value)")
            }
            recipe.edges = edges
        }
        recipe.biggan = try BigGANRecipe.take(from: &values, source: source)
        do {
            recipe.flow = try TrainingConfiguration.from(values, source: source)
        } catch Net2NetError.configuration(let message) where message.contains("unknown key") {
            throw Net2NetError.configuration(message + ", " + recipeKeys.joined(separator: ", "))
        }
        return recipe
    }

    /// Reads the recipe file at `path`.
    public static func load(file path: String, overrides: [String] = []) throws -> ExperimentRecipe {
        guard FileManager.default.fileExists(atPath: path) else {
            throw Net2NetError.configuration("\(path): no such recipe file")
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        // A recipe names its experiment: without the key, a training configuration
        // (configs/gaussian.yaml) would silently train label-to-image at its size.
        guard try YAMLSettings.values(yaml: text, source: path, overrides: overrides)["experiment"] != nil else {
            throw Net2NetError.configuration("\(path): no 'experiment' key; a recipe names its experiment (\(ExperimentKind.allCases.map(\.rawValue).joined(separator: ", "))), and a training configuration goes to `net2net train --config`")
        }
        return try load(yaml: text, source: path, overrides: overrides)
    }

    /// The recipe keys as checkpoint metadata.
    public var metadata: [String: String] {
        var keys = ["experiment": kind.rawValue, "condition_expert": conditionExpert, "target_expert": kind.targetExpert,
                    "train_images": String(trainImages), "captions_per_image": String(captionsPerImage)]
        if kind == .inpainting { keys["mask"] = mask }
        if kind == .textToImage {
            keys["captions"] = captions.rawValue
            keys["balance_classes"] = String(balanceClasses)
        }
        if kind == .ganTranslation || kind == .textToBigGAN { keys["pairs"] = String(pairs) }
        if kind == .textToBigGAN { keys["truncation"] = String(biggan.truncation) }
        if kind == .edgesToImage { keys["edges"] = edges.rawValue }
        return keys
    }
}

extension MaskRegion {
    /// The names a recipe and an experiment's manifest use.
    public static let names = ["lower-half", "upper-half", "random-box"]

    /// The region called `name` (random boxes drawn from `seed`), nil for an unknown name.
    public static func named(_ name: String, seed: UInt64) -> MaskRegion? {
        switch name {
        case "lower-half": return .lowerHalf
        case "upper-half": return .upperHalf
        case "random-box": return .randomBox(seed: seed)
        default: return nil
        }
    }
}
