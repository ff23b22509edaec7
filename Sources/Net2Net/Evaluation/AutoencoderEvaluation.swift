import Datasets
import Experts
import Flow
import Foundation
import TensorCore

/// How good our autoencoder and evaluation classifier are on the held-out
/// images (Fashion-MNIST test + the MNIST-5k test split).
public struct AutoencoderReport: Sendable, Codable {
    /// Mean squared error per pixel (images in [-1, 1]) of reconstructions from the posterior mean.
    public var reconstructionMSE: Double
    /// The same for PCA with as many components as the latent has dimensions (fitted on the training images).
    public var pcaMSE: Double
    public var latentDimension: Int
    /// Mean of the classifier's top probability on decoded prior samples z ~ N(0, I).
    public var priorSampleConfidence: Double
    /// FID-F between decoded prior samples and the test images; and between reconstructions and the test images.
    public var priorSampleFID: Double
    public var reconstructionFID: Double
    /// FID-F between two halves of the test images: the floor that sampling noise sets.
    public var testHalvesFID: Double
    /// Classifier top-1 accuracy on Fashion-MNIST test and on the MNIST-5k test split.
    public var fashionAccuracy: Double
    public var digitAccuracy: Double
    public var priorSamples: Int
    /// Per class (the classifier's 20): the share of the class's test images
    /// the classifier puts in it, and the same for their reconstructions,
    /// the most a generator decoding through this autoencoder can expect.
    public var classAccuracy: [Double]?
    public var reconstructionClassAccuracy: [Double]?
    /// With a learned prior (an unconditional τ on the latents): the
    /// classifier's mean top probability and FID-F of its decoded samples,
    /// z = τ(v), v ~ N(0, I); nil without one.
    public var learnedPriorSampleConfidence: Double?
    public var learnedPriorSampleFID: Double?

    enum CodingKeys: String, CodingKey {
        case reconstructionMSE = "reconstruction_mse", pcaMSE = "pca_mse", latentDimension = "latent_dim"
        case priorSampleConfidence = "prior_sample_confidence", priorSampleFID = "prior_sample_fid_f"
        case reconstructionFID = "reconstruction_fid_f", testHalvesFID = "test_halves_fid_f"
        case fashionAccuracy = "fashion_accuracy", digitAccuracy = "digit_accuracy", priorSamples = "prior_samples"
        case classAccuracy = "class_accuracy", reconstructionClassAccuracy = "reconstruction_class_accuracy"
        case learnedPriorSampleConfidence = "learned_prior_sample_confidence"
        case learnedPriorSampleFID = "learned_prior_sample_fid_f"
    }
}

public enum AutoencoderEvaluation {
    /// Evaluates `autoencoder` and `classifier` on `test`, with PCA fitted on
    /// `train`; with `learnedPrior` (an unconditional flow on the latents)
    /// also its decoded samples.
    public static func run(autoencoder: ConvolutionalVAE, classifier: EvaluationClassifier, train: ImageDataset,
                           test: ImageDataset, priorSamples: Int = 10_000, seed: UInt64 = 0,
                           learnedPrior: ConditionalFlow? = nil,
                           progress: (String) -> Void = { _ in }) throws -> AutoencoderReport {
        if let learnedPrior, let problem = priorProblem(learnedPrior, latentDimension: autoencoder.latentDimension) {
            throw Net2NetError.configuration(problem)
        }
        progress("reconstructing \(test.count) test images")
        let latents = try autoencoder.encode(test.images)
        let reconstructions = try autoencoder.decode(latents)
        var squared = 0.0
        for i in 0..<test.images.count { let d = Double(reconstructions.scalars[i] - test.images.scalars[i]); squared += d * d }
        progress("fitting PCA with \(autoencoder.latentDimension) components on \(train.count) training images")
        guard let pca = PrincipalComponents(fitting: train.images, components: autoencoder.latentDimension) else {
            throw Net2NetError.training("PCA failed: LAPACK did not converge")
        }
        progress("decoding \(priorSamples) prior samples")
        var generator = SeededGenerator(seed: seed)
        let samples = try autoencoder.decode(generator.normalTensor([priorSamples, autoencoder.latentDimension]))
        progress("classifying")
        let (sampleProbabilities, sampleFeatures) = try classifier.evaluate(samples)
        let (testProbabilities, testFeatures) = try classifier.evaluate(test.images)
        let (reconstructionProbabilities, reconstructionFeatures) = try classifier.evaluate(reconstructions)
        var learned: (confidence: Double, fid: Double)? = nil
        if let learnedPrior {
            progress("decoding \(priorSamples) samples of the learned prior")
            var priorGenerator = SeededGenerator(seed: seed &+ 2)
            let z = learnedPrior.sample(condition: nil, count: priorSamples, using: &priorGenerator)
            let (probabilities, features) = try classifier.evaluate(try autoencoder.decode(z))
            learned = (meanTopProbability(probabilities, rows: priorSamples),
                       FrechetDistance.distance(features, testFeatures))
        }
        let confidence = meanTopProbability(sampleProbabilities, rows: priorSamples)
        let labels = EvaluationClassifier.labels(of: test)
        let testPredictions = EvaluationClassifier.predictions(testProbabilities)
        var correct = [0, 0], total = [0, 0]
        for (r, predicted) in testPredictions.enumerated() {
            let d = test.domains[r] == .digit ? 1 : 0
            total[d] += 1
            if predicted == labels[r] { correct[d] += 1 }
        }
        progress("Fréchet distances")
        return AutoencoderReport(
            reconstructionMSE: squared / Double(test.images.count), pcaMSE: pca.reconstructionError(test.images),
            latentDimension: autoencoder.latentDimension,
            priorSampleConfidence: confidence,
            priorSampleFID: FrechetDistance.distance(sampleFeatures, testFeatures),
            reconstructionFID: FrechetDistance.distance(reconstructionFeatures, testFeatures),
            testHalvesFID: FrechetDistance.halves(testFeatures, seed: seed &+ 1),
            fashionAccuracy: Double(correct[0]) / Double(max(total[0], 1)),
            digitAccuracy: Double(correct[1]) / Double(max(total[1], 1)),
            priorSamples: priorSamples,
            classAccuracy: perClassAccuracy(testPredictions, labels: labels),
            reconstructionClassAccuracy: perClassAccuracy(EvaluationClassifier.predictions(reconstructionProbabilities), labels: labels),
            learnedPriorSampleConfidence: learned?.confidence, learnedPriorSampleFID: learned?.fid)
    }

    /// For each of the 20 classes, the share of its rows predicted as it (0 for a class with no rows).
    static func perClassAccuracy(_ predicted: [Int], labels: [Int]) -> [Double] {
        var correct = [Int](repeating: 0, count: EvaluationClassifier.classCount), total = correct
        for (p, label) in zip(predicted, labels) {
            total[label] += 1
            if p == label { correct[label] += 1 }
        }
        return zip(correct, total).map { $1 > 0 ? Double($0) / Double($1) : 0 }
    }

    /// The mean over `rows` of each row's largest class probability.
    static func meanTopProbability(_ probabilities: Tensor, rows: Int) -> Double {
        let K = EvaluationClassifier.classCount
        var sum = 0.0
        for r in 0..<rows { sum += Double((0..<K).map { probabilities.scalars[r * K + $0] }.max()!) }
        return sum / Double(rows)
    }

    /// Why `prior` cannot be a learned prior for an autoencoder whose latent
    /// has `latentDimension` dimensions (it must be an unconditional flow of
    /// that width), or nil.
    public static func priorProblem(_ prior: ConditionalFlow, latentDimension: Int) -> String? {
        let c = prior.configuration
        if c.isConditional {
            return "a conditional flow (conditioning_dim \(c.conditionDimension)); a prior takes no condition: train it without --condition"
        }
        if c.dimension != latentDimension {
            return "models \(c.dimension)-d data; the autoencoder's latent is \(latentDimension)-d"
        }
        return nil
    }
}
