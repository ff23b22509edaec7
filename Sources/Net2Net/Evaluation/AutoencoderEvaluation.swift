import Datasets
import Experts
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

    enum CodingKeys: String, CodingKey {
        case reconstructionMSE = "reconstruction_mse", pcaMSE = "pca_mse", latentDimension = "latent_dim"
        case priorSampleConfidence = "prior_sample_confidence", priorSampleFID = "prior_sample_fid_f"
        case reconstructionFID = "reconstruction_fid_f", testHalvesFID = "test_halves_fid_f"
        case fashionAccuracy = "fashion_accuracy", digitAccuracy = "digit_accuracy", priorSamples = "prior_samples"
    }
}

public enum AutoencoderEvaluation {
    /// Evaluates `autoencoder` and `classifier` on `test`, with PCA fitted on `train`.
    public static func run(autoencoder: ConvolutionalVAE, classifier: EvaluationClassifier, train: ImageDataset,
                           test: ImageDataset, priorSamples: Int = 10_000, seed: UInt64 = 0,
                           progress: (String) -> Void = { _ in }) throws -> AutoencoderReport {
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
        let (_, reconstructionFeatures) = try classifier.evaluate(reconstructions)
        let K = EvaluationClassifier.classCount
        var confidence = 0.0
        for r in 0..<priorSamples { confidence += Double((0..<K).map { sampleProbabilities.scalars[r * K + $0] }.max()!) }
        let labels = EvaluationClassifier.labels(of: test)
        var correct = [0, 0], total = [0, 0]
        for (r, predicted) in EvaluationClassifier.predictions(testProbabilities).enumerated() {
            let d = test.domains[r] == .digit ? 1 : 0
            total[d] += 1
            if predicted == labels[r] { correct[d] += 1 }
        }
        progress("Fréchet distances")
        return AutoencoderReport(
            reconstructionMSE: squared / Double(test.images.count), pcaMSE: pca.reconstructionError(test.images),
            latentDimension: autoencoder.latentDimension,
            priorSampleConfidence: confidence / Double(priorSamples),
            priorSampleFID: FrechetDistance.distance(sampleFeatures, testFeatures),
            reconstructionFID: FrechetDistance.distance(reconstructionFeatures, testFeatures),
            testHalvesFID: FrechetDistance.halves(testFeatures, seed: seed &+ 1),
            fashionAccuracy: Double(correct[0]) / Double(max(total[0], 1)),
            digitAccuracy: Double(correct[1]) / Double(max(total[1], 1)),
            priorSamples: priorSamples)
    }
}
