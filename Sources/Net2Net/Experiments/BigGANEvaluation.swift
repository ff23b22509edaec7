import Experts
import Flow
import Foundation
import TensorCore

/// What `eval-experiment` reports for text → BigGAN, measured in BigGAN's
/// latent space (no image is decoded: there is no ImageNet classifier here).
///
/// - `held_out_nats_per_dim`, `held_out_pairs`: NLL of z_Θ given z_Φ on freshly
///   sampled pairs whose captions use templates no training caption uses
///   (`BigGANPairs.heldOutTemplates`); `prior_nats_per_dim`: the same z_Θ under
///   N(0, I), what τ must beat by using the caption. Same meanings as in
///   `ExperimentReport`.
/// - `class_accuracy`: for a held-out caption of each class, the fraction of τ's
///   samples whose class part e is nearer (Euclidean) to that class's embedding
///   than to any other of the recipe's classes; `chance_accuracy` = 1 / classes.
public struct BigGANTranslationReport: Codable, Sendable {
    public var experiment: String
    public var heldOutNatsPerDim: Double
    public var heldOutPairs: Int
    public var priorNatsPerDim: Double
    public var classAccuracy: Double
    public var chanceAccuracy: Double
    public var classes: Int
    public var samplesPerCondition: Int

    enum CodingKeys: String, CodingKey {
        case experiment, heldOutNatsPerDim = "held_out_nats_per_dim", heldOutPairs = "held_out_pairs"
        case priorNatsPerDim = "prior_nats_per_dim", classAccuracy = "class_accuracy", chanceAccuracy = "chance_accuracy"
        case classes, samplesPerCondition = "samples_per_condition"
    }
}

extension Evaluation {
    /// NLL of `target` `[N, D]` under N(0, I), nats per dimension: mean of ½‖z‖²/D + ½ log 2π.
    public static func priorNatsPerDimension(_ target: Tensor) -> Double {
        let count = max(target.count, 1)
        return target.scalars.reduce(0.0) { $0 + 0.5 * Double($1) * Double($1) } / Double(count) + 0.5 * log(2 * Double.pi)
    }
}

extension ExperimentEvaluation {
    /// Text → BigGAN's report (`BigGANTranslationReport`): `heldOutPairs` fresh
    /// pairs, `samplesPerCondition` samples for one held-out caption of each class.
    public func runBigGANTranslation(heldOutPairs P: Int, samplesPerCondition K: Int, seed: UInt64) throws -> BigGANTranslationReport {
        precondition(P >= 1 && K >= 1, "need a held-out pair and a sample per condition")
        progress("held-out pairs: \(P) fresh samples, captions from held-out templates")
        let fresh = try experts.bigganPairs(count: P, seed: seed &+ SeedStreams.heldOutBigGANPairs,
                                           templates: BigGANPairs.heldOutTemplates).pairs
        let nll = Evaluation.natsPerDimension(flow: flow, target: fresh.target, condition: fresh.condition)

        let model = try experts.biggan()
        let (ids, names) = try experts.bigganClasses()
        progress("class accuracy: \(K) samples for a held-out caption of each of \(ids.count) classes")
        let captions = ids.enumerated().map { i, y in
            BigGANPairs.caption(BigGANPairs.heldOutTemplates[i % BigGANPairs.heldOutTemplates.count], name: BigGANPairs.names(names[y])[0])
        }
        let samples = try Translation.sample(flow: flow, condition: try experts.embedCaptions(captions), count: K, seed: seed &+ 43)
        let embeddings = try model.classEmbeddings(try model.oneHot(ids))
        let Z = model.latentDimension, C = ids.count, M = samples.shape[0]
        // argmin_k ‖e − c_k‖² = argmin_k ‖c_k‖² − 2 e·c_k; the dots e·c_k [M, C] are one GEMM
        // of the samples' class parts (columns Z..<2Z of each row, lda 2Z) with the embeddingsᵀ.
        var dots = [Float](repeating: 0, count: M * C)
        let classParts = Array(samples.scalars[Z...])
        gemm(.none, .transposed, m: M, n: C, k: Z, a: classParts, lda: 2 * Z, b: embeddings.scalars, ldb: Z, beta: 0, c: &dots, ldc: C)
        let squaredNorms = (0..<C).map { k in embeddings.scalars[(k * Z)..<((k + 1) * Z)].reduce(Float(0)) { $0 + $1 * $1 } }
        var correct = 0
        for row in 0..<M {
            let score = (0..<C).map { squaredNorms[$0] - 2 * dots[row * C + $0] }
            if score.indices.min(by: { score[$0] < score[$1] }) == row / K { correct += 1 }
        }
        return BigGANTranslationReport(experiment: experts.kind.rawValue, heldOutNatsPerDim: nll.natsPerDimension,
                                       heldOutPairs: nll.count, priorNatsPerDim: Evaluation.priorNatsPerDimension(fresh.target),
                                       classAccuracy: Double(correct) / Double(samples.shape[0]),
                                       chanceAccuracy: 1 / Double(ids.count), classes: ids.count, samplesPerCondition: K)
    }
}
