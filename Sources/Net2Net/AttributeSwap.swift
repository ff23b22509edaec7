import Experts
import Foundation
import TensorCore

/// Attribute swap of one image (paper §4.3): the image's latent z = Θ(x) keeps
/// its residual under another condition,
///
///     v = τ⁻¹(z | Φ(source)),   z* = τ(v | Φ(target)),   image* = Λ(z*).
///
/// Several v come from several draws z ~ q(z | x) of the autoencoder's
/// posterior (the first is its mean), so one image gives several re-expressions.
/// When no source condition is given, the evaluation classifier names the
/// image's class and its plain caption (or class label) is the source.
public struct AttributeSwap {
    /// Φ, τ and Λ of a text- or label-conditioned experiment.
    public let translator: Translator
    /// Θ: our autoencoder, whose posterior gives z.
    public let autoencoder: ConvolutionalVAE
    /// Names the source class of an image given without a source condition.
    public let classifier: EvaluationClassifier

    public init(translator: Translator, autoencoder: ConvolutionalVAE, classifier: EvaluationClassifier) {
        self.translator = translator
        self.autoencoder = autoencoder
        self.classifier = classifier
    }

    /// What a swap gives: the source the image was read as, and `count`
    /// images `[count, 1, 28, 28]` in [-1, 1] under the target.
    public struct Result {
        /// The source condition used: the caption or class name given, or the
        /// classifier's class for the image.
        public var source: String
        public var images: Tensor
    }

    /// Re-expresses `image` (`[1, 1, 28, 28]` in [-1, 1]) under `target`,
    /// `count` times (posterior mean, then posterior draws from `seed`).
    /// `source` nil: the classifier's class of the image.
    public func swap(image: Tensor, source: ExpertInput?, sourceName: String? = nil, target: ExpertInput,
                     count: Int, seed: UInt64) throws -> Result {
        guard image.shape == [1] + ConvolutionalVAE.imageShape else {
            throw Net2NetError.parameter(name: "image", problem: "must be [1, 1, 28, 28], got \(image.shape)")
        }
        guard count >= 1 else { throw Net2NetError.parameter(name: "count", problem: "must be at least 1") }
        var sourceInput = source, name = sourceName ?? ""
        if sourceInput == nil {
            let label = try classifier.predict(image)[0]
            name = EvaluationClassifier.classNames[label]
            sourceInput = try defaultSource(label: label)
        }
        let mean = try autoencoder.encode(image)
        var latents = mean
        if count > 1 {
            let copies = image.gatherRows(Array(repeating: 0, count: count - 1))
            let draws = try autoencoder.encode(copies, sample: true, seed: seed)
            latents = Tensor(shape: [count, mean.shape[1]], scalars: mean.scalars + draws.scalars)
        }
        let from = try translator.condition(sourceInput!)
        let to = try translator.condition(target)
        let swapped = try translator.translate(latents, from: from.gatherRows(Array(repeating: 0, count: count)), to: to)
        return Result(source: name, images: try translator.decode(swapped))
    }

    /// The source condition of class `label` for this translator's Φ: the class
    /// itself for the label expert, its plain caption for a text expert.
    func defaultSource(label: Int) throws -> ExpertInput {
        switch translator.conditionEncoder?.expertDescription.inputKind {
        case .classLabel: return .labels([label])
        case .text: return .text([CaptionGenerator.plainCaption(class: label)])
        default: throw Net2NetError.unsupported("attribute swap needs a text or label experiment")
        }
    }
}
