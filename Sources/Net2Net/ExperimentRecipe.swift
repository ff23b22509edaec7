import Foundation

/// The query expert Φ of an experiment; the target is always our autoencoder's latent.
public enum ExperimentKind: String, Codable, CaseIterable, Sendable {
    /// Φ = one-hot class (10 fashion classes + 10 digits), paper §4.3 / Tab. 5.
    case labelToImage = "label-to-image"
    /// Φ = MiniLM sentence embedding of a caption, paper §4.1.1.
    case textToImage = "text-to-image"

    /// The condition expert's name as stored in checkpoints.
    public var conditionExpert: String {
        switch self {
        case .labelToImage: return "label"
        case .textToImage: return "minilm"
        }
    }
}

/// A YAML recipe for one experiment: the recipe keys below plus every flow
/// training key of `TrainingConfiguration` (`hidden_dim`, `n_flows`, `steps`…).
///
///     experiment: text-to-image    # or label-to-image
///     train_images: 20000          # a seeded subset of the 64 500 training images (0: all)
///     captions_per_image: 1        # text-to-image: captions drawn per image
public struct ExperimentRecipe: Sendable, Equatable {
    public var kind: ExperimentKind = .labelToImage
    public var trainImages = 0
    public var captionsPerImage = 1
    /// The flow and its training loop.
    public var flow = TrainingConfiguration()

    public static let recipeKeys = ["experiment", "train_images", "captions_per_image"]

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
        return try load(yaml: try String(contentsOfFile: path, encoding: .utf8), source: path, overrides: overrides)
    }

    /// The recipe keys as checkpoint metadata.
    public var metadata: [String: String] {
        ["experiment": kind.rawValue, "condition_expert": kind.conditionExpert, "target_expert": "autoencoder",
         "train_images": String(trainImages), "captions_per_image": String(captionsPerImage)]
    }
}
