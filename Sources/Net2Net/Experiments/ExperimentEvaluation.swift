import Datasets
import Experts
import Flow
import Foundation
import TensorCore

/// The numbers `net2net eval-experiment` reports for a trained τ (all on the
/// held-out images: Fashion-MNIST test + the MNIST-5k test split).
///
/// Edges-to-image and inpainting condition on one test image each: conditional
/// accuracy is the fraction of samples (one per test condition) the classifier
/// puts in the source image's class, and diversity is measured on
/// `samples_per_condition` samples for one test image of each class.
///
/// GAN translation has no data set and no classes: it has its own report,
/// `FaceTranslationReport`.
public struct ExperimentReport: Codable, Sendable {
    public var experiment: String
    /// Held-out negative log-likelihood of z_Θ given z_Φ, nats per dimension, and the pair count.
    public var heldOutNatsPerDim: Double
    public var heldOutPairs: Int
    /// Fraction of decoded samples the classifier assigns to the class they were conditioned on
    /// (`samples_per_condition` samples for each of the 20 classes).
    public var conditionalAccuracy: Double
    public var samplesPerCondition: Int
    /// FID-F of one sample per test condition against the test images, and of two halves of the test images (the floor).
    public var fid: Double
    public var realHalvesFID: Double
    /// Mean pairwise RMS pixel distance between samples of one condition, averaged over classes;
    /// the same for real test images of one class.
    public var diversity: Double
    public var realDiversity: Double
    /// Text: per-sample accuracy on held-out free-text prompts no template produces
    /// (`heldOutPrompts.accuracy`).
    public var promptAccuracy: Double?
    /// Text: the held-out prompts (`HeldOutPrompt.all`) and the paraphrases
    /// (`HeldOutPrompt.paraphrases`), per class and with the confusion pairs.
    public var heldOutPrompts: PromptReport?
    public var paraphrases: PromptReport?
    /// Label: class swap v = τ⁻¹(z | a), z* = τ(v | b) against latent arithmetic z + μ_b − μ_a.
    public var swap: SwapReport?
    /// The deterministic MLP regressor z_Φ → z_Θ on the same pairs (when asked for).
    public var regressor: RegressorReport?

    enum CodingKeys: String, CodingKey {
        case experiment, heldOutNatsPerDim = "held_out_nats_per_dim", heldOutPairs = "held_out_pairs"
        case conditionalAccuracy = "conditional_accuracy", samplesPerCondition = "samples_per_condition"
        case fid = "fid_f", realHalvesFID = "real_halves_fid_f", diversity, realDiversity = "real_diversity"
        case promptAccuracy = "prompt_accuracy", heldOutPrompts = "held_out_prompts", paraphrases, swap, regressor
    }
}

/// GAN translation, for one kind of query made from held-out DCGAN faces (the
/// face itself, its Sobel edge map, or the face with the mask hidden): mean
/// cosine similarities of EfficientNet features, over `count` queries with
/// one τ sample each. q = query, f = the face it was made from,
/// y = DCGAN(τ(v | Φ(q))), r = a random DCGAN face (the baseline).
public struct FaceQueryReport: Codable, Sendable, Equatable {
    /// "face", "edges" or "masked".
    public var query: String
    public var count: Int
    /// cos(Φ(q), Φ(y)) and the baseline cos(Φ(q), Φ(r)).
    public var similarity: Double
    public var randomSimilarity: Double
    /// cos(Φ(f), Φ(y)) and the baseline cos(Φ(f), Φ(r)): how much of the source face comes back.
    public var faceSimilarity: Double
    public var randomFaceSimilarity: Double

    enum CodingKeys: String, CodingKey {
        case query, count, similarity, randomSimilarity = "random_similarity"
        case faceSimilarity = "face_similarity", randomFaceSimilarity = "random_face_similarity"
    }
}

public struct RegressorReport: Codable, Sendable {
    public var fid: Double
    public var diversity: Double
    public var conditionalAccuracy: Double

    enum CodingKeys: String, CodingKey {
        case fid = "fid_f", diversity, conditionalAccuracy = "conditional_accuracy"
    }
}

public struct SwapReport: Codable, Sendable {
    public var count: Int
    public var targetAccuracy: Double
    public var fid: Double
    public var arithmeticTargetAccuracy: Double
    public var arithmeticFID: Double

    enum CodingKeys: String, CodingKey {
        case count, targetAccuracy = "target_accuracy", fid = "fid_f"
        case arithmeticTargetAccuracy = "arithmetic_target_accuracy", arithmeticFID = "arithmetic_fid_f"
    }
}

/// Evaluates a trained experiment.
public final class ExperimentEvaluation {
    public let flow: ConditionalFlow
    public let experts: ExperimentExperts
    public let classifier: EvaluationClassifier
    let progress: (String) -> Void
    /// The temperature of every sample the evaluation draws: v ~ N(0, T²I).
    public var temperature: Float = 1

    public init(flow: ConditionalFlow, experts: ExperimentExperts, classifier: EvaluationClassifier,
                progress: @escaping (String) -> Void = { _ in }) {
        self.flow = flow
        self.experts = experts
        self.classifier = classifier
        self.progress = progress
    }

    /// Decoded samples `[N·K, 1, 28, 28]` (GAN translation: faces `[N·K, 3, 64, 64]`)
    /// for conditions `[N, Dc]`, condition-major.
    public func samples(_ condition: Tensor, count: Int, seed: UInt64) throws -> Tensor {
        let z = try Translation.sample(flow: flow, condition: condition, count: count, temperature: temperature, seed: seed)
        return try experts.decode(z)
    }

    /// The report for label- and text-to-image, edges-to-image and inpainting
    /// (GAN translation: `runFaceTranslation`).
    /// With `regressorTrainingPairs`, the report also scores the MLP baseline fitted on them.
    public func run(test: ImageDataset, train: ImageDataset, attributes: ImageAttributes?, samplesPerCondition: Int = 100,
                    regressorTrainingPairs: PairDataset? = nil, seed: UInt64 = 0) throws -> ExperimentReport {
        switch experts.kind {
        case .edgesToImage, .inpainting:
            return try runImageQueries(test: test, samplesPerCondition: samplesPerCondition, seed: seed)
        case .ganTranslation:
            throw Net2NetError.unsupported("gan-translation has no image data set: use runFaceTranslation")
        case .textToBigGAN:
            throw Net2NetError.unsupported("text-to-biggan has no image data set: use runBigGANTranslation")
        case .labelToImage, .textToImage:
            break
        }
        progress("held-out pairs")
        let data = try experts.pairs(test, attributes: attributes, seed: seed &+ 7)
        let nll = Evaluation.natsPerDimension(flow: flow, target: data.pairs.target, condition: data.pairs.condition)

        progress("conditional samples: \(samplesPerCondition) for each of the 20 classes")
        let classes = Array(0..<EvaluationClassifier.classCount)
        let (classConditions, _) = try experts.conditions(labels: classes, seed: seed &+ 11)
        let perClass = try samples(classConditions, count: samplesPerCondition, seed: seed &+ 13)
        let predicted = try classifier.predict(perClass)
        var correct = 0
        for (i, p) in predicted.enumerated() where p == i / samplesPerCondition { correct += 1 }
        let diversity = ExperimentEvaluation.meanPairwiseDistance(perClass, groups: classes.count, groupSize: samplesPerCondition)

        progress("FID-F: one sample per test condition")
        let generated = try samples(data.pairs.condition, count: 1, seed: seed &+ 17)
        let testFeatures = try classifier.evaluate(test.images).features
        let fid = FrechetDistance.distance(try classifier.evaluate(generated).features, testFeatures)
        let floor = FrechetDistance.halves(testFeatures, seed: seed &+ 19)
        let realDiversity = ExperimentEvaluation.realDiversity(test, groupSize: samplesPerCondition)
        var report = ExperimentReport(experiment: experts.kind.rawValue, heldOutNatsPerDim: nll.natsPerDimension,
                                      heldOutPairs: nll.count, conditionalAccuracy: Double(correct) / Double(predicted.count),
                                      samplesPerCondition: samplesPerCondition, fid: fid, realHalvesFID: floor,
                                      diversity: diversity, realDiversity: realDiversity, promptAccuracy: nil,
                                      heldOutPrompts: nil, paraphrases: nil, swap: nil,
                                      regressor: nil)
        if let regressorTrainingPairs {
            report.regressor = try regressor(trainingPairs: regressorTrainingPairs, testConditions: data.pairs.condition,
                                             testFeatures: testFeatures, samplesPerCondition: samplesPerCondition, seed: seed)
        }
        switch experts.kind {
        case .textToImage:
            progress("held-out prompts and paraphrases")
            let (heldOut, paraphrases) = try heldOutPromptReports(seed: seed)
            report.heldOutPrompts = heldOut
            report.promptAccuracy = heldOut.accuracy
            report.paraphrases = paraphrases
        case .labelToImage:
            progress("class swap")
            report.swap = try swap(test: test, train: train, seed: seed &+ 29)
        case .edgesToImage, .inpainting, .ganTranslation, .textToBigGAN:
            break
        }
        return report
    }

    /// Mean pairwise distance of real images within a class: the same number of each
    /// class that has two or more (as many as the rarest of those has, up to
    /// `groupSize`); 0 when no class has two (JSON has no NaN).
    static func realDiversity(_ test: ImageDataset, groupSize: Int) -> Double {
        let labels = EvaluationClassifier.labels(of: test)
        let members = (0..<EvaluationClassifier.classCount).map { c in labels.indices.filter { labels[$0] == c } }
            .filter { $0.count >= 2 }
        let size = min(groupSize, members.map(\.count).min() ?? 0)
        guard size >= 2 else { return 0 }
        return meanPairwiseDistance(test.subset(members.flatMap { $0.prefix(size) }).images, groups: members.count, groupSize: size)
    }

    /// The MLP baseline, fitted on `trainingPairs`, scored like τ: its output for
    /// every test condition against the test images' features (FID-F), and
    /// `samplesPerCondition` "samples" per class (all identical: diversity 0).
    func regressor(trainingPairs: PairDataset, testConditions: Tensor, testFeatures: Tensor,
                   samplesPerCondition: Int, seed: UInt64) throws -> RegressorReport {
        let mlp = MLPRegressor(conditionDimension: trainingPairs.conditionDimension, dimension: trainingPairs.dimension,
                               seed: seed)
        let mse = mlp.fit(trainingPairs, seed: seed) { [progress] step, loss in
            progress(String(format: "regressor step %d: %.4f", step, loss))
        }
        progress(String(format: "regressor fitted: mean squared error %.4f per dimension", mse))
        let decoded = try experts.autoencoder.decode(mlp.predict(testConditions))
        let fid = FrechetDistance.distance(try classifier.evaluate(decoded).features, testFeatures)
        let classes = Array(0..<EvaluationClassifier.classCount)
        let (conditions, _) = try experts.conditions(labels: classes, seed: seed &+ 11)
        let repeated = conditions.gatherRows(classes.flatMap { Array(repeating: $0, count: samplesPerCondition) })
        let perClass = try experts.autoencoder.decode(mlp.predict(repeated))
        let predicted = try classifier.predict(perClass)
        let correct = predicted.enumerated().filter { $0.element == $0.offset / samplesPerCondition }.count
        return RegressorReport(fid: fid,
                               diversity: ExperimentEvaluation.meanPairwiseDistance(perClass, groups: classes.count,
                                                                                   groupSize: samplesPerCondition),
                               conditionalAccuracy: Double(correct) / Double(predicted.count))
    }

    /// The two held-out prompt sets, 20 samples a prompt (`HeldOutPrompt.all`, `HeldOutPrompt.paraphrases`).
    public func heldOutPromptReports(seed: UInt64) throws -> (heldOut: PromptReport, paraphrases: PromptReport) {
        (try prompts(HeldOutPrompt.all, set: "held_out", samplesPerPrompt: 20, seed: seed &+ 23),
         try prompts(HeldOutPrompt.paraphrases, set: "paraphrases", samplesPerPrompt: 20, seed: seed &+ 31))
    }

    /// `samplesPerPrompt` samples for each of `prompts`, judged against their expected class.
    public func prompts(_ prompts: [HeldOutPrompt], set: String, samplesPerPrompt: Int, seed: UInt64) throws -> PromptReport {
        let condition = try experts.embed(prompts.map(\.text))
        let predicted = try classifier.predict(try samples(condition, count: samplesPerPrompt, seed: seed))
        return PromptReport(set: set, prompts: prompts, predicted: predicted, samplesPerPrompt: samplesPerPrompt)
    }

    /// The swap target of each 20-class label. Fashion classes go to a related
    /// class (T-shirt → shirt, trouser → dress, pullover → coat, dress → trouser,
    /// coat → pullover, sandal → sneaker, shirt → pullover, sneaker → ankle boot,
    /// bag → sandal, ankle boot → sneaker); digit d goes to fashion class d
    /// (unpaired digit → fashion translation through the label, paper Tab. 5).
    public static let fashionSwaps = [6, 3, 4, 1, 2, 7, 2, 9, 5, 7]
    public static func swapTarget(_ label: Int) -> Int { label < 10 ? fashionSwaps[label] : label - 10 }

    /// Translates every test image to its swap target with τ and with latent arithmetic.
    public func swap(test: ImageDataset, train: ImageDataset, seed: UInt64) throws -> SwapReport {
        let labels = EvaluationClassifier.labels(of: test)
        let targets = labels.map(ExperimentEvaluation.swapTarget)
        let z = try experts.autoencoder.encode(test.images)
        let (from, _) = try experts.conditions(labels: labels, seed: seed)
        let (to, _) = try experts.conditions(labels: targets, seed: seed)
        let swapped = try experts.autoencoder.decode(try Translation.translate(flow: flow, target: z, from: from, to: to))
        // Latent arithmetic: class means of the training latents.
        let trainLabels = EvaluationClassifier.labels(of: train)
        let trainLatents = try experts.autoencoder.encode(train.images)
        let Z = z.shape[1]
        var means = [[Double]](repeating: [Double](repeating: 0, count: Z), count: EvaluationClassifier.classCount)
        var counts = [Int](repeating: 0, count: EvaluationClassifier.classCount)
        for (i, c) in trainLabels.enumerated() {
            counts[c] += 1
            for j in 0..<Z { means[c][j] += Double(trainLatents.scalars[i * Z + j]) }
        }
        var shifted = z
        for (i, a) in labels.enumerated() {
            let b = targets[i]
            for j in 0..<Z {
                shifted.scalars[i * Z + j] += Float(means[b][j] / Double(max(counts[b], 1)) - means[a][j] / Double(max(counts[a], 1)))
            }
        }
        let arithmetic = try experts.autoencoder.decode(shifted)
        // Reference: real test images with the same target-class histogram.
        var pools = [[Int]](repeating: [], count: EvaluationClassifier.classCount)
        for (i, c) in labels.enumerated() { pools[c].append(i) }
        var generator = SeededGenerator(seed: seed)
        let reference = targets.map { b in pools[b][Int(generator.next() % UInt64(pools[b].count))] }
        let referenceFeatures = try classifier.evaluate(test.subset(reference).images).features
        func score(_ images: Tensor) throws -> (accuracy: Double, fid: Double) {
            let (probabilities, features) = try classifier.evaluate(images)
            let correct = zip(EvaluationClassifier.predictions(probabilities), targets).filter { $0 == $1 }.count
            return (Double(correct) / Double(targets.count), FrechetDistance.distance(features, referenceFeatures))
        }
        let ours = try score(swapped), baseline = try score(arithmetic)
        return SwapReport(count: targets.count, targetAccuracy: ours.accuracy, fid: ours.fid,
                          arithmeticTargetAccuracy: baseline.accuracy, arithmeticFID: baseline.fid)
    }

    /// Mean over groups of the mean pairwise RMS distance between the group's images.
    static func meanPairwiseDistance(_ images: Tensor, groups: Int, groupSize: Int) -> Double {
        let P = images.count / max(images.shape[0], 1)
        var total = 0.0
        for g in 0..<groups {
            var sum = 0.0, pairs = 0
            for a in 0..<groupSize {
                for b in (a + 1)..<groupSize {
                    var d = 0.0
                    let ia = (g * groupSize + a) * P, ib = (g * groupSize + b) * P
                    for p in 0..<P { let x = Double(images.scalars[ia + p] - images.scalars[ib + p]); d += x * x }
                    sum += (d / Double(P)).squareRoot()
                    pairs += 1
                }
            }
            total += sum / Double(max(pairs, 1))
        }
        return total / Double(max(groups, 1))
    }
}
