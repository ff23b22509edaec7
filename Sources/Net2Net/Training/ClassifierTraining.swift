import Experts
import Foundation
import Layers
import TensorCore

/// `net2net classifier train` settings (YAML keys in `CodingKeys`).
public struct ClassifierTrainingConfiguration: ImageTrainingSettings, Equatable {
    public var batchSize = 128
    public var learningRate = 2e-3
    public var epochs = 8
    /// Random translations of up to ± this many pixels (augmentation; 0 turns it off).
    public var shift = 2
    /// Each digit image appears this many times per epoch (the 4 500 training digits
    /// are outnumbered 13:1 by the fashion images otherwise).
    public var digitRepeats = 4
    public var seed: UInt64 = 0
    public var logEvery = 50
    public var checkpointEvery = 1000
    public var outputDirectory: String? = nil

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case batchSize = "batch_size"
        case learningRate = "learning_rate"
        case epochs, shift, seed
        case digitRepeats = "digit_repeats"
        case logEvery = "log_every"
        case checkpointEvery = "checkpoint_every"
        case outputDirectory = "output_dir"
    }

    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    public var problems: [String] {
        var p: [String] = []
        if batchSize < 2 { p.append("batch_size must be at least 2 (BatchNorm needs batch statistics), got \(batchSize)") }
        if !(learningRate > 0) || !learningRate.isFinite { p.append("learning_rate must be a positive number") }
        if epochs < 1 { p.append("epochs must be at least 1") }
        if shift < 0 || shift > 8 { p.append("shift must be in 0...8 pixels") }
        if digitRepeats < 1 { p.append("digit_repeats must be at least 1") }
        if logEvery < 1 { p.append("log_every must be at least 1") }
        if checkpointEvery < 1 { p.append("checkpoint_every must be at least 1") }
        return p
    }
}

/// Trains the evaluation classifier with softmax cross-entropy, each image
/// shifted by a random offset in ±`shift` pixels (background −1).
public final class ClassifierTrainingTask: ImageTrainingTask {
    public static let modelFile = "classifier.safetensors"
    public let model: EvaluationClassifier
    public let shift: Int
    public let seed: UInt64
    let validation: Tensor
    let validationLabels: [Int]
    let workspace: ClassifierTrainingWorkspace
    let shifted: FloatBuffer

    public init(model: EvaluationClassifier, shift: Int, seed: UInt64, batchSize: Int, validation: Tensor, validationLabels: [Int]) {
        self.model = model
        self.shift = shift
        self.seed = seed
        self.validation = validation
        self.validationLabels = validationLabels
        workspace = model.makeTrainingWorkspace(batch: batchSize)
        shifted = FloatBuffer(count: batchSize * 784)
    }

    public var parameters: FloatBuffer { model.parameters }

    public func loss(_ x: UnsafePointer<Float>, labels: [Int], step: Int, gradients: FloatBuffer) -> (loss: Double, metrics: [(String, Double)]) {
        var input = x
        if shift > 0 {
            var generator = SeededGenerator(seed: seed ^ (SeedStreams.classifierAugmentation &+ UInt64(step)))
            for i in 0..<labels.count {
                let dy = Int(generator.next() % UInt64(2 * shift + 1)) - shift
                let dx = Int(generator.next() % UInt64(2 * shift + 1)) - shift
                ClassifierTrainingTask.translate(x + i * 784, by: (dy, dx), into: shifted.pointer + i * 784)
            }
            input = UnsafePointer(shifted.pointer)
        }
        let (loss, correct) = model.lossAndGradient(input, labels: labels, gradients: gradients, workspace: workspace)
        return (loss, [("accuracy", Double(correct) / Double(labels.count))])
    }

    /// `out[i, j] = image[i − dy, j − dx]`, −1 (background) outside.
    static func translate(_ image: UnsafePointer<Float>, by offset: (Int, Int), into out: UnsafeMutablePointer<Float>) {
        for i in 0..<28 {
            for j in 0..<28 {
                let si = i - offset.0, sj = j - offset.1
                out[i * 28 + j] = (si >= 0 && si < 28 && sj >= 0 && sj < 28) ? image[si * 28 + sj] : -1
            }
        }
    }

    public func validate() throws -> [(String, Double)] {
        guard !validationLabels.isEmpty else { return [] }
        let predictions = try model.predict(validation)
        let correct = zip(predictions, validationLabels).filter { $0 == $1 }.count
        return [("accuracy", Double(correct) / Double(validationLabels.count))]
    }

    public func saveModel(to directory: URL, step: Int) throws {
        try model.save(to: directory.appendingPathComponent(ClassifierTrainingTask.modelFile), step: step)
    }

    /// Held-out accuracy selects the best model.
    public var selectionMetric: (name: String, higherIsBetter: Bool) { ("accuracy", true) }
}
