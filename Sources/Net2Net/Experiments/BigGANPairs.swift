import Experts
import Foundation
import TensorCore

/// Text → BigGAN's pairs (paper §4.1.1, Tab. 1/2, at a small honest scale):
/// for each pair an ImageNet class y is drawn uniformly from the recipe's
/// classes, a caption names it ("a photo of a goldfish": a template and one
/// of the class's names from the `imagenet-classes` asset), and
///
///     z_Φ = text_expert(caption)                                  [P, Dc]
///     z_Θ = [z, e_y + σ·RMS(e)·ε],  z = truncation × truncnorm(−2, 2),
///           e_y = embeddings · onehot(y),  ε ~ N(0, I)             [P, 2·z_dim]
///
/// z_Θ is BigGAN's own condition vector, so Λ = BigGAN(z, e) decodes τ's
/// samples directly (`BigGANLatentDecoder`), and the class part of a sample
/// says which class τ chose for the prompt. σ = `class_noise` dequantises e.
public struct BigGANPairs: Sendable {
    public let pairs: PairDataset
    /// The ImageNet class of each pair, and its caption.
    public let classes: [Int]
    public let captions: [String]

    /// The caption templates of training; `{}` is the class name.
    public static let trainingTemplates = [
        "a photo of a {}", "a picture of a {}", "an image of a {}", "a {}", "a close-up photo of a {}",
        "a photo of the {}", "a bright photo of a {}", "a dark photo of a {}", "a blurry photo of a {}", "there is a {} here",
    ]
    /// Templates no training caption uses, for the evaluation's conditions.
    public static let heldOutTemplates = ["a cropped photo of the {}", "a good photo of a {}", "a low resolution picture of a {}"]

    /// `template` with `name`, "a"/"an" agreeing with the name's first letter.
    public static func caption(_ template: String, name: String) -> String {
        var text = template.replacingOccurrences(of: "{}", with: name)
        let vowel = name.first.map { "aeiouAEIOU".contains($0) } ?? false
        for (consonantForm, vowelForm) in [("a ", "an "), ("A ", "An ")] {
            let wrong = vowel ? consonantForm + name : vowelForm + name
            text = text.replacingOccurrences(of: wrong, with: (vowel ? vowelForm : consonantForm) + name)
        }
        return text
    }

    /// The names of an ImageNet class ("goldfish, Carassius auratus" → two names).
    public static func names(_ lemmas: String) -> [String] {
        lemmas.components(separatedBy: ", ").filter { !$0.isEmpty }
    }
}

extension ExperimentExperts {
    /// Λ for text → BigGAN: the BigGAN of `loading.weights` decoding [z, e] at `truncation`.
    static func bigganLatentDecoder(loading: ExpertLoading, truncation: Double) throws -> BigGANLatentDecoder {
        guard let plain = try ExpertRegistry.imageDecoder(named: ExpertName.biggan, loading: loading) as? BigGANImageDecoder else {
            throw ExpertError.unknownExpert(ExpertName.biggan, role: "generator", known: ExpertRegistry.names([.imageDecoder]))
        }
        return try BigGANLatentDecoder(model: plain.model, truncation: truncation, description: plain.expertDescription)
    }

    /// The BigGAN of this experiment (text → BigGAN).
    public func biggan() throws -> BigGAN {
        guard let decoder = try imageDecoder() as? BigGANLatentDecoder else {
            throw Net2NetError.unsupported("\(kind.rawValue) does not decode with BigGAN")
        }
        return decoder.model
    }

    /// The recipe's class ids, checked against the model, and the ImageNet
    /// names of every class of the model (the asset's first `classCount`).
    public func bigganClasses() throws -> (ids: [Int], names: [String]) {
        let model = try biggan()
        let ids = try bigganRecipe.classIDs(classCount: model.classCount)
        guard model.classCount <= ImageNetClasses.count else {
            throw Net2NetError.unsupported("BigGAN has \(model.classCount) classes; captions name the \(ImageNetClasses.count) ImageNet classes")
        }
        let all = try ImageNetClasses(store: loading.store, progress: loading.progress(of: "imagenet-classes")).names
        return (ids, Array(all.prefix(model.classCount)))
    }

    /// `count` pairs drawn from `seed`, captions from `templates` (see `BigGANPairs`).
    public func bigganPairs(count P: Int, seed: UInt64, templates: [String] = BigGANPairs.trainingTemplates) throws -> BigGANPairs {
        precondition(P > 0 && !templates.isEmpty, "need pairs and templates")
        let model = try biggan()
        let (ids, names) = try bigganClasses()
        var generator = SeededGenerator(seed: seed)
        func pick(_ n: Int) -> Int { Int(generator.next() % UInt64(n)) }
        var classes: [Int] = [], captions: [String] = []
        for _ in 0..<P {
            let y = ids[pick(ids.count)]
            let choices = BigGANPairs.names(names[y])
            classes.append(y)
            captions.append(BigGANPairs.caption(templates[pick(templates.count)], name: choices[pick(choices.count)]))
        }
        let truncation = bigganRecipe.truncation
        progress("sampling \(P) pairs: \(ids.count) classes, z at truncation \(truncation), class embeddings")
        let z = model.truncatedNoise(count: P, truncation: truncation, using: &generator)
        let embeddings = try model.classEmbeddings(try model.oneHot(classes))
        let sigma = Float(bigganRecipe.classNoise) * BigGANPairs.rootMeanSquare(try model.classEmbeddings(try model.oneHot(ids)))
        let noise = generator.normalTensor([P, model.latentDimension], standardDeviation: sigma)
        let Z = model.latentDimension
        var target = [Float](repeating: 0, count: P * 2 * Z)
        for n in 0..<P {
            for j in 0..<Z {
                target[n * 2 * Z + j] = z.scalars[n * Z + j]
                target[n * 2 * Z + Z + j] = embeddings.scalars[n * Z + j] + noise.scalars[n * Z + j]
            }
        }
        let condition = try embedCaptions(captions)
        return BigGANPairs(pairs: try PairDataset(condition: condition, target: Tensor(shape: [P, 2 * Z], scalars: target)),
                           classes: classes, captions: captions)
    }
}

extension BigGANPairs {
    /// √(mean of the squared entries) of `t` (0 for an empty tensor).
    static func rootMeanSquare(_ t: Tensor) -> Float {
        guard t.count > 0 else { return 0 }
        return Float((t.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(t.count)).squareRoot())
    }
}
