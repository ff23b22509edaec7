import Experts
import Foundation

/// The keys of a text → BigGAN recipe (`experiment: text-to-biggan`):
///
///     weights: biggan-deep-128/   # BigGAN's model directory: pytorch_model.bin + config.json
///     truncation: 0.4             # z = truncation × truncnorm(−2, 2); BigGAN's statistics of it
///     classes: [1, 207, 963]      # the ImageNet class ids captions name, or all
///     class_noise: 0.02           # e + class_noise · RMS(e) · N(0, I): the class part dequantised
///
/// The weights are the user's: they are published for pytorch-pretrained-biggan
/// and not fetched here (`BigGAN.weightsNeeded`); `--weights` on the commands
/// overrides the key.
public struct BigGANRecipe: Sendable, Equatable {
    /// BigGAN's model directory (or its pytorch_model.bin), as written; nil when not given.
    public var weights: String?
    public var truncation = 0.4
    /// ImageNet class ids; nil: every class of the model.
    public var classes: [Int]?
    /// Gaussian noise added to the class embedding of each pair, as a fraction of
    /// the embeddings' RMS: without it z_Θ's class part takes a few exact values,
    /// a density a flow can only approach by shrinking without end.
    public var classNoise = 0.02

    public static let keys = ["weights", "truncation", "classes", "class_noise"]

    public init() {}

    /// Removes and checks this struct's keys from a recipe's `values`.
    static func take(from values: inout [String: Any], source: String) throws -> BigGANRecipe {
        var recipe = BigGANRecipe()
        func bad(_ key: String, _ expected: String, _ value: Any) -> Net2NetError {
            .configuration("\(source): '\(key)' must be \(expected), got \(value)")
        }
        func number(_ key: String) throws -> Double? {
            guard let value = values.removeValue(forKey: key) else { return nil }
            guard let n = (value as? NSNumber)?.doubleValue ?? (value as? String).flatMap(Double.init), n.isFinite else {
                throw bad(key, "a number", value)
            }
            return n
        }
        if let value = values.removeValue(forKey: "weights") {
            guard let path = value as? String, !path.isEmpty else { throw bad("weights", "a path (BigGAN's model directory)", value) }
            recipe.weights = path
        }
        if let t = try number("truncation") {
            guard t > 0 && t <= 1 else { throw bad("truncation", "in (0, 1]", t) }
            recipe.truncation = t
        }
        if let noise = try number("class_noise") {
            guard noise >= 0 && noise <= 1 else { throw bad("class_noise", "in [0, 1]", noise) }
            recipe.classNoise = noise
        }
        if let value = values.removeValue(forKey: "classes") {
            if "\(value)" == "all" {
                recipe.classes = nil
            } else {
                let list = (value as? [Any]) ?? [value]
                let ids = list.compactMap { ($0 as? Int) }
                guard ids.count == list.count, !ids.isEmpty, ids.allSatisfy({ $0 >= 0 }), Set(ids).count == ids.count else {
                    throw bad("classes", "all or a list of distinct ImageNet class ids (integers ≥ 0)", value)
                }
                recipe.classes = ids
            }
        }
        return recipe
    }

    /// The weights' location; without one, `error: <recipe>: …` saying which files
    /// are needed and where they are published.
    public func requireWeights(source: String) throws -> URL {
        guard let weights else {
            let needed = ExpertError.weightsRequired(expert: ExpertName.biggan, needed: BigGAN.weightsNeeded).localizedDescription
            throw Net2NetError.configuration("\(source): no BigGAN weights: \(needed). Name the model directory with the recipe's "
                                             + "'weights:' key or --weights DIR")
        }
        return URL(fileURLWithPath: weights)
    }

    /// The class ids of a model with `classCount` classes: the recipe's, checked, or all.
    public func classIDs(classCount: Int) throws -> [Int] {
        guard let classes else { return Array(0..<classCount) }
        if let outside = classes.first(where: { $0 >= classCount }) {
            throw Net2NetError.configuration("'classes': class \(outside) is not in 0…\(classCount - 1) (the model has \(classCount) classes)")
        }
        return classes
    }
}
