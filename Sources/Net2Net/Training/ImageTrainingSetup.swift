import Datasets
import Experts
import Foundation
import TensorCore

/// The set-up of our two image models' training (the autoencoder Θ/Λ and the
/// evaluation classifier): their data, their tasks, fresh or resumed from the
/// last checkpoint, and the trainer that runs them.
public enum ImageTrainingSetup {
    /// Fashion-MNIST + MNIST-5k, training and test splits; each digit image
    /// appears `digitRepeats` times in the training set (the digits are fewer).
    public static func data(digitRepeats: Int = 1, store: AssetStore = AssetStore(),
                            progress: @escaping (String) -> Void = { _ in }) throws -> (train: ImageDataset, test: ImageDataset) {
        let train = repeatingDigits(try ImageDataset.fashionAndDigits(.train, store: store, progress: progress), times: digitRepeats)
        let test = try ImageDataset.fashionAndDigits(.test, store: store, progress: progress)
        return (train, test)
    }

    /// `images` with its digit images repeated: each appears `times` times (the extra copies at the end).
    public static func repeatingDigits(_ images: ImageDataset, times: Int) -> ImageDataset {
        guard times > 1 else { return images }
        let digits = images.domains.indices.filter { images.domains[$0] == .digit }
        return images.subset(Array(images.domains.indices) + Array(repeating: digits, count: times - 1).flatMap { $0 })
    }

    /// The autoencoder's task: a fresh model from the settings' seed, or with
    /// `resume` the last checkpoint in `outputDirectory` (its architecture must
    /// match the settings). Returns it and a description for people.
    public static func autoencoderTask(_ settings: AutoencoderTrainingConfiguration, outputDirectory: URL, resume: Bool,
                                       validation test: ImageDataset) throws -> (task: ImageTrainingTask, description: String) {
        let model: ConvolutionalVAE
        if resume {
            // Resume from the last step (`best` may be older).
            let loaded = try ConvolutionalVAE.load(CheckpointDirectory.modelDirectory(for: outputDirectory, slot: CheckpointDirectory.lastSlot))
            guard loaded.model.architecture == settings.architecture else {
                throw Net2NetError.checkpoint(path: outputDirectory.path, problem: "its architecture differs from this configuration")
            }
            model = loaded.model
        } else {
            model = ConvolutionalVAE(architecture: settings.architecture, seed: settings.seed)
        }
        let task = AutoencoderTrainingTask(model: model, beta: Float(settings.beta), seed: settings.seed,
                                           batchSize: settings.batchSize, validation: test.images)
        return (task, "the autoencoder: latent \(settings.latentDimension)-d, \(model.parameterCount) parameters")
    }

    /// The evaluation classifier's task: fresh, or with `resume` the last checkpoint in `outputDirectory`.
    public static func classifierTask(_ settings: ClassifierTrainingConfiguration, outputDirectory: URL, resume: Bool,
                                      validation test: ImageDataset) throws -> (task: ImageTrainingTask, description: String) {
        let model = resume
            ? try EvaluationClassifier.load(CheckpointDirectory.modelDirectory(for: outputDirectory, slot: CheckpointDirectory.lastSlot)).model
            : EvaluationClassifier(seed: settings.seed)
        let task = ClassifierTrainingTask(model: model, shift: settings.shift, seed: settings.seed, batchSize: settings.batchSize,
                                          validation: test.images, validationLabels: EvaluationClassifier.labels(of: test))
        return (task, "the classifier: \(model.parameterCount) parameters")
    }

    /// The trainer of `task` on the training images `train` (labels of the 20-class scheme).
    public static func trainer(task: ImageTrainingTask, train: ImageDataset, settings: some ImageTrainingSettings,
                               outputDirectory: URL, resume: Bool) throws -> ImageModelTrainer {
        try ImageModelTrainer(task: task, images: train.images, labels: EvaluationClassifier.labels(of: train),
                              settings: settings, outputDirectory: outputDirectory, resume: resume)
    }
}
