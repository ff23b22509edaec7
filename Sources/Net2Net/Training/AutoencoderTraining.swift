import Experts
import Foundation
import Layers
import TensorCore

/// `net2net autoencoder train` settings (YAML keys in `CodingKeys`).
public struct AutoencoderTrainingConfiguration: ImageTrainingSettings, Equatable {
    public var latentDimension = 64
    public var width = 32
    public var slope: Float = 0.2
    public var beta = 1.0
    public var batchSize = 128
    public var learningRate = 2e-3
    public var epochs = 20
    public var seed: UInt64 = 0
    public var logEvery = 50
    public var checkpointEvery = 1000
    public var outputDirectory: String? = nil

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case latentDimension = "latent_dim"
        case width, slope, beta
        case batchSize = "batch_size"
        case learningRate = "learning_rate"
        case epochs, seed
        case logEvery = "log_every"
        case checkpointEvery = "checkpoint_every"
        case outputDirectory = "output_dir"
    }

    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    public var architecture: AutoencoderArchitecture {
        var a = AutoencoderArchitecture(latentDimension: latentDimension, width: width)
        a.slope = slope
        return a
    }

    public var problems: [String] {
        var p = architecture.problems
        if batchSize < 2 { p.append("batch_size must be at least 2 (BatchNorm needs batch statistics), got \(batchSize)") }
        if !(learningRate > 0) || !learningRate.isFinite { p.append("learning_rate must be a positive number") }
        if !(beta >= 0) || !beta.isFinite { p.append("beta must be ≥ 0") }
        if epochs < 1 { p.append("epochs must be at least 1") }
        if logEvery < 1 { p.append("log_every must be at least 1") }
        if checkpointEvery < 1 { p.append("checkpoint_every must be at least 1") }
        return p
    }
}

/// Trains a `ConvolutionalVAE`; validation reports the held-out loss terms.
public final class AutoencoderTrainingTask: ImageTrainingTask {
    public static let modelFile = "autoencoder.safetensors"
    public let model: ConvolutionalVAE
    public let beta: Float
    public let seed: UInt64
    let validation: Tensor
    let workspace: VAETrainingWorkspace

    public init(model: ConvolutionalVAE, beta: Float, seed: UInt64, batchSize: Int, validation: Tensor) {
        self.model = model
        self.beta = beta
        self.seed = seed
        self.validation = validation
        workspace = model.makeTrainingWorkspace(batch: batchSize)
    }

    public var parameters: FloatBuffer { model.parameters }

    public func loss(_ x: UnsafePointer<Float>, labels: [Int], step: Int, gradients: FloatBuffer) -> (loss: Double, metrics: [(String, Double)]) {
        var generator = SeededGenerator(seed: seed ^ (SeedStreams.autoencoderNoise &+ UInt64(step)))
        let l = model.lossAndGradient(x, batch: labels.count, beta: beta, generator: &generator, gradients: gradients,
                                      workspace: workspace)
        return (l.loss / Double(ConvolutionalVAE.pixelCount),
                [("mse", l.meanSquaredError), ("kl", l.kl), ("gamma", Double(model.gamma))])
    }

    public func validate() throws -> [(String, Double)] {
        guard validation.shape[0] > 0 else { return [] }
        let l = try model.evaluate(validation, beta: beta)
        return [("loss", l.loss / Double(ConvolutionalVAE.pixelCount)), ("mse", l.meanSquaredError), ("kl", l.kl)]
    }

    public func saveModel(to directory: URL, step: Int) throws {
        try model.save(to: directory.appendingPathComponent(AutoencoderTrainingTask.modelFile), step: step)
    }

    /// The held-out loss per pixel (reconstruction + KL) selects the best model.
    public var selectionMetric: (name: String, higherIsBetter: Bool) { ("loss", false) }
}
