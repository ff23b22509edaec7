import Experts
import Formats
import Foundation
import Layers
import TensorCore

/// What an `ImageModelTrainer` trains: a model with a flat parameter buffer
/// and a loss on batches of labelled images.
public protocol ImageTrainingTask: AnyObject {
    var parameters: FloatBuffer { get }
    /// One step's loss on `labels.count` images `x`, its gradient written into
    /// `gradients`; `step` seeds any randomness (noise, augmentation), so a
    /// resumed run repeats it exactly. Returns the loss and named metrics.
    func loss(_ x: UnsafePointer<Float>, labels: [Int], step: Int, gradients: FloatBuffer) -> (loss: Double, metrics: [(String, Double)])
    /// Named metrics on the held-out images.
    func validate() throws -> [(String, Double)]
    /// Writes the model into `directory`.
    func saveModel(to directory: URL, step: Int) throws
    /// The validation metric that selects the `best` checkpoint, and its direction.
    var selectionMetric: (name: String, higherIsBetter: Bool) { get }
}

/// A report from `ImageModelTrainer.run`.
public enum ImageTrainingEvent: Sendable {
    case progress(step: Int, totalSteps: Int, epoch: Int, loss: Double, metrics: [(String, Double)], imagesPerSecond: Double)
    case validation(step: Int, epoch: Int, metrics: [(String, Double)])
    case checkpoint(step: Int, directory: URL)
    /// A new best value of the task's selection metric; with an output directory, the model is now the `best` checkpoint.
    case best(step: Int, metric: String, value: Double)
}

/// The loop shared by the autoencoder and the classifier: seeded epoch
/// order from (seed, epoch), Adam, a cosine learning-rate decay, progress,
/// validation after every epoch, checkpoints (model + optimiser state, one
/// atomic unit in a `CheckpointDirectory`) every `checkpointEvery` steps, at
/// the end and when `shouldStop` says so, and exact resume. Model selection:
/// the model of the best validation value of `task.selectionMetric` is kept
/// as the run's `best` checkpoint, which readers use by default.
public final class ImageModelTrainer {
    public let task: ImageTrainingTask
    /// Training images `[N, …]` and their labels.
    public let images: Tensor
    public let labels: [Int]
    public let batchSize: Int
    public let epochs: Int
    public let seed: UInt64
    public let schedule: LearningRateSchedule
    public let optimizer: Adam
    public let outputDirectory: URL?
    public let logEvery: Int
    public let checkpointEvery: Int
    /// Settings stored with the optimiser state (JSON), checked on resume.
    public let settingsJSON: String
    public private(set) var step = 0
    /// Model selection on the task's metric (kept across resume).
    var selection: ModelSelection
    /// The best validation value of the selection metric so far, and its step.
    public var best: (step: Int, value: Double)? { selection.best.map { ($0.step, $0.value) } }
    let gradients: FloatBuffer
    let batchImages: FloatBuffer

    public static let stateFile = "training_state.safetensors"

    public init(task: ImageTrainingTask, images: Tensor, labels: [Int], batchSize: Int, epochs: Int, learningRate: Float, seed: UInt64,
                outputDirectory: URL?, logEvery: Int = 50, checkpointEvery: Int = 1000, settingsJSON: String,
                resume: Bool = false) throws {
        precondition(images.rank >= 2 && images.shape[0] == labels.count, "\(labels.count) labels for images \(images.shape)")
        guard labels.count >= batchSize else {
            throw Net2NetError.configuration("batch_size \(batchSize) is larger than the \(labels.count) training images")
        }
        self.task = task
        selection = ModelSelection(higherIsBetter: task.selectionMetric.higherIsBetter)
        self.images = images
        self.labels = labels
        self.batchSize = batchSize
        self.epochs = epochs
        self.seed = seed
        self.outputDirectory = outputDirectory
        self.logEvery = logEvery
        self.checkpointEvery = checkpointEvery
        self.settingsJSON = settingsJSON
        let total = epochs * (labels.count / batchSize)
        schedule = LearningRateSchedule(base: learningRate, warmupSteps: min(200, total / 20), decay: .cosine,
                                        totalSteps: total, finalFraction: 0.02)
        optimizer = Adam(parameterCount: task.parameters.count, beta1: 0.9, beta2: 0.999, amsgrad: false)
        gradients = FloatBuffer(count: task.parameters.count)
        batchImages = FloatBuffer(count: batchSize * (images.count / labels.count))
        if resume {
            guard let outputDirectory else { throw Net2NetError.configuration("resuming needs an output directory") }
            step = try loadState(from: outputDirectory)
        }
    }

    public var stepsPerEpoch: Int { labels.count / batchSize }
    public var totalSteps: Int { epochs * stepsPerEpoch }

    func epochOrder(_ epoch: Int) -> [Int] {
        SeededGenerator.epochOrder(count: labels.count, seed: seed, epoch: epoch)
    }

    /// Trains to the end (or until `shouldStop`), writing checkpoints into the output directory.
    /// The output directory is locked while it runs (`CheckpointLock`), and
    /// what killed writers left there is removed first.
    public func run(shouldStop: () -> Bool = { false }, onEvent: (ImageTrainingEvent) -> Void = { _ in }) throws {
        let lock = try outputDirectory.map { try CheckpointLock(directory: $0) }
        defer { lock?.release() }
        if let outputDirectory { CheckpointDirectory(outputDirectory).removeStale() }
        let B = batchSize, S = images.count / labels.count
        var order: [Int] = [], orderEpoch = -1
        var windowLoss = 0.0, windowMetrics: [(String, Double)] = [], windowSteps = 0
        var windowStart = Date()
        while step < totalSteps {
            let epoch = step / stepsPerEpoch, position = step % stepsPerEpoch
            if epoch != orderEpoch { order = epochOrder(epoch); orderEpoch = epoch }
            let rows = Array(order[(position * B)..<((position + 1) * B)])
            images.scalars.withUnsafeBufferPointer { x in
                for (i, r) in rows.enumerated() { (batchImages.pointer + i * S).update(from: x.baseAddress! + r * S, count: S) }
            }
            let result = task.loss(batchImages.pointer, labels: rows.map { labels[$0] }, step: step, gradients: gradients)
            guard result.loss.isFinite else { throw Net2NetError.training(failure("the loss became \(result.loss)")) }
            let squaredNorm = optimizer.update(parameters: task.parameters, gradients: gradients,
                                               learningRate: schedule.rate(at: step))
            guard squaredNorm.isFinite else { throw Net2NetError.training(failure("the gradient became non-finite")) }
            step += 1
            windowLoss += result.loss
            if windowMetrics.isEmpty { windowMetrics = result.metrics.map { ($0.0, 0) } }
            for (i, m) in result.metrics.enumerated() where i < windowMetrics.count { windowMetrics[i].1 += m.1 }
            windowSteps += 1
            if step % logEvery == 0 || step == totalSteps {
                let n = Double(windowSteps)
                onEvent(.progress(step: step, totalSteps: totalSteps, epoch: epoch + 1, loss: windowLoss / n,
                                  metrics: windowMetrics.map { ($0.0, $0.1 / n) },
                                  imagesPerSecond: n * Double(B) / max(Date().timeIntervalSince(windowStart), 1e-9)))
                windowLoss = 0; windowMetrics = []; windowSteps = 0; windowStart = Date()
            }
            if step % stepsPerEpoch == 0 {
                let metrics = try task.validate()
                onEvent(.validation(step: step, epoch: epoch + 1, metrics: metrics))
                try select(metrics, onEvent: onEvent)
                windowStart = Date()
            }
            let stopping = shouldStop()
            if let outputDirectory, step % checkpointEvery == 0 || step == totalSteps || stopping {
                try saveCheckpoint(to: outputDirectory)
                onEvent(.checkpoint(step: step, directory: outputDirectory))
            }
            if stopping { return }
        }
    }

    /// Publishes the model as `best` when the selection metric improved.
    func select(_ metrics: [(String, Double)], onEvent: (ImageTrainingEvent) -> Void) throws {
        let criterion = task.selectionMetric
        guard let value = metrics.first(where: { $0.0 == criterion.name })?.1, selection.offer(value, at: step) else { return }
        if let outputDirectory, task.parameters.isFinite {
            if !FileManager.default.fileExists(atPath: outputDirectory.appendingPathComponent(CheckpointDirectory.lastSlot).path) {
                try saveCheckpoint(to: outputDirectory)  // a run with a `best` always has a resumable `last`
            }
            try CheckpointDirectory(outputDirectory).publish(slot: CheckpointDirectory.bestSlot, step: step) { generation in
                try task.saveModel(to: generation, step: step)
            }
        }
        onEvent(.best(step: step, metric: criterion.name, value: value))
    }

    func failure(_ what: String) -> String {
        var message = "training stopped at step \(step + 1): \(what)."
        if let outputDirectory { message += " The last good checkpoint in \(outputDirectory.path) is intact." }
        return message + " Try a lower learning_rate."
    }

    /// Publishes the optimiser state and the model as one checkpoint in
    /// `directory`, after checking that every value is finite.
    func saveCheckpoint(to directory: URL) throws {
        guard task.parameters.isFinite, optimizer.firstMoment.isFinite, optimizer.secondMoment.isFinite else {
            throw Net2NetError.training(failure("a parameter or optimiser moment became non-finite"))
        }
        let n = optimizer.firstMoment.count
        try CheckpointDirectory(directory).publish(step: step) { generation in
            try SafeTensorsFile.write([
                ("adam.exp_avg", .float32(Tensor(shape: [n], scalars: optimizer.firstMoment.array()))),
                ("adam.exp_avg_sq", .float32(Tensor(shape: [n], scalars: optimizer.secondMoment.array()))),
            ], metadata: ["format": "net2net-image-training-state", "step": String(step),
                          "adam_step": String(optimizer.step), "training": settingsJSON,
                          ].merging(selection.metadata(valueKey: "best_value")) { own, _ in own },
               to: generation.appendingPathComponent(ImageModelTrainer.stateFile))
            try task.saveModel(to: generation, step: step)
        }
    }

    func loadState(from directory: URL) throws -> Int {
        let url = CheckpointDirectory.file(ImageModelTrainer.stateFile, at: directory, slot: CheckpointDirectory.lastSlot)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw Net2NetError.checkpoint(path: url.path, problem: "no training state to resume from")
        }
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.metadata["format"] == "net2net-image-training-state", let step = Int(file.metadata["step"] ?? ""),
              let adamStep = Int(file.metadata["adam_step"] ?? "") else {
            throw Net2NetError.checkpoint(path: url.path, problem: "not a net2net training state (metadata incomplete)")
        }
        guard file.metadata["training"] == settingsJSON else {
            throw Net2NetError.checkpoint(path: url.path, problem: "was written with other settings (\(file.metadata["training"] ?? "none")); resume with the same configuration")
        }
        for (name, buffer) in [("adam.exp_avg", optimizer.firstMoment), ("adam.exp_avg_sq", optimizer.secondMoment)] {
            guard let info = file.info(name), info.shape == [buffer.count] else {
                throw Net2NetError.checkpoint(path: url.path, problem: "\(name) is missing or does not match the model's \(buffer.count) parameters")
            }
            buffer.assign(try file.tensor(name).scalars)
        }
        optimizer.step = adamStep
        selection = ModelSelection.recorded(in: file.metadata, valueKey: "best_value",
                                            higherIsBetter: task.selectionMetric.higherIsBetter)
        return step
    }
}

/// The loop settings both image-model configurations have.
public protocol ImageTrainingSettings: YAMLConfigurable {
    var batchSize: Int { get }
    var learningRate: Double { get }
    var epochs: Int { get }
    var seed: UInt64 { get }
    var logEvery: Int { get }
    var checkpointEvery: Int { get }
    var outputDirectory: String? { get }
}

extension ImageModelTrainer {
    /// A trainer with the loop settings of `settings` (stored as JSON with the optimiser state).
    public convenience init(task: ImageTrainingTask, images: Tensor, labels: [Int], settings: some ImageTrainingSettings,
                            outputDirectory: URL?, resume: Bool = false) throws {
        try self.init(task: task, images: images, labels: labels, batchSize: settings.batchSize, epochs: settings.epochs,
                      learningRate: Float(settings.learningRate), seed: settings.seed, outputDirectory: outputDirectory,
                      logEvery: settings.logEvery, checkpointEvery: settings.checkpointEvery,
                      settingsJSON: settings.json(), resume: resume)
    }
}
