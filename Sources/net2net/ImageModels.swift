import ArgumentParser
import Datasets
import Experts
import Flow
import Formats
import Foundation
import Net2Net
import TensorCore

struct Autoencoder: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train and evaluate our own autoencoder (a convolutional VAE on Fashion-MNIST + MNIST digits).",
        subcommands: [AutoencoderTrain.self, AutoencoderEvaluate.self])
}

struct Classifier: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the evaluation classifier (20 classes: 10 fashion classes, 10 digits).",
        subcommands: [ClassifierTrain.self])
}

/// Options shared by the two training commands.
struct ImageTrainingOptions: ParsableArguments {
    @Option(help: "YAML configuration file.") var config: String?
    @Option(name: .customLong("set"), help: "Override a key: --set key=value (repeatable).") var overrides: [String] = []
    @Option(name: .customLong("output-dir"), help: "Where checkpoints go.") var outputDirectory: String?
    @Flag(help: "Continue from the checkpoint in the output directory.") var resume = false

    func settings<T: YAMLConfigurable>(_ type: T.Type) throws -> T {
        var yaml: String? = nil
        if let config {
            guard FileManager.default.fileExists(atPath: config) else {
                throw Net2NetError.configuration("\(config): no such file")
            }
            yaml = try String(contentsOfFile: config, encoding: .utf8)
        }
        var all = overrides
        if let outputDirectory { all.append("output_dir=\(outputDirectory)") }
        return try T.load(yaml: yaml, source: config ?? "flags", overrides: all)
    }

    /// Loads Fashion-MNIST + MNIST-5k, builds the task (given the output
    /// directory and the test set; returns it and a description) and trains it.
    func train<S: ImageTrainingSettings>(_ settings: S, modelFile: String, digitRepeats: Int = 1,
                                         makeTask: (URL, ImageDataset) throws -> (ImageTrainingTask, String)) throws {
        let output = try output(settings.outputDirectory, modelFile: modelFile)
        let (train, test) = try ImageTrainingSetup.data(digitRepeats: digitRepeats, progress: { note($0) })
        let (task, description) = try makeTask(output, test)
        let trainer = try ImageTrainingSetup.trainer(task: task, train: train, settings: settings, outputDirectory: output,
                                                     resume: resume)
        note("training \(description), \(train.count) images, batch \(settings.batchSize), \(trainer.totalSteps) steps"
             + (resume ? ", resuming at step \(trainer.step)" : ""))
        try runImageTraining(trainer)
    }

    func output(_ path: String?, modelFile: String) throws -> URL {
        guard let path else {
            throw Net2NetError.configuration("give --output-dir (or the key output_dir) for the checkpoints")
        }
        let url = fileURL(path)
        try checkOutputDirectory(url, modelFile: modelFile, resume: resume)
        return url
    }
}

/// Runs `trainer`, printing progress and validation, checkpointing on Ctrl-C and SIGTERM.
func runImageTraining(_ trainer: ImageModelTrainer) throws {
    func format(_ metrics: [(String, Double)]) -> String {
        metrics.map { String(format: "%@ %.4g", $0.0, $0.1) }.joined(separator: "  ")
    }
    let start = Date()
    let interrupt = try runInterruptibly { shouldStop in
        try trainer.run(shouldStop: shouldStop) { event in
            switch event {
            case let .progress(step, total, epoch, loss, metrics, rate):
                note(String(format: "step %d/%d (epoch %d)  loss %.4f  ", step, total, epoch, loss) + format(metrics)
                     + String(format: "  %.0f images/s", rate))
            case let .validation(step, epoch, metrics):
                note("epoch \(epoch) (step \(step))  held-out: " + format(metrics)
                     + String(format: "  [%.0f s]", Date().timeIntervalSince(start)))
            case let .checkpoint(step, directory):
                if step % trainer.checkpointEvery == 0 || step == trainer.totalSteps || shouldStop() {
                    note("step \(step)  checkpoint → \(directory.path)")
                }
            case let .best(step, metric, value):
                note(String(format: "step %d  new best held-out %@ %.4g", step, metric, value)
                     + (trainer.outputDirectory.map { " → \($0.appendingPathComponent(CheckpointDirectory.bestSlot).path)" } ?? ""))
            }
        }
    }
    if let interrupt { try exitInterrupted(by: interrupt, step: trainer.step, directory: trainer.outputDirectory) }
    note(String(format: "done in %.0f s", Date().timeIntervalSince(start)))
    if let best = trainer.best {
        note(String(format: "best held-out %@ %.4g at step %d", trainer.task.selectionMetric.name, best.value, best.step)
             + (trainer.outputDirectory.map { " (\($0.appendingPathComponent(CheckpointDirectory.bestSlot).path), used by default; "
                + "\($0.appendingPathComponent(CheckpointDirectory.lastSlot).path) is the last step)" } ?? ""))
    }
}

/// The autoencoder's learned prior that `--prior DIR` or `--learned-prior`
/// (the shipped one, which belongs to the shipped autoencoder) names, nil
/// for neither; refused by path unless it is an unconditional flow of
/// `latentDimension`-d data.
func loadLearnedPrior(path: String?, shipped: Bool, latentDimension: Int, ownAutoencoder: Bool,
                      autoencoderOption: String) throws -> ConditionalFlow? {
    guard path == nil || !shipped else { throw ValidationError("give either --prior DIR or --learned-prior") }
    guard !(shipped && ownAutoencoder) else {
        throw ValidationError("--learned-prior belongs to the shipped autoencoder; with \(autoencoderOption) give that autoencoder's --prior DIR")
    }
    guard let url = try path.map(fileURL) ?? (shipped ? ShippedModels.autoencoderPrior : nil) else { return nil }
    let flow = try FlowCheckpoint.load(url).flow
    if let problem = AutoencoderEvaluation.priorProblem(flow, latentDimension: latentDimension) {
        throw Net2NetError.checkpoint(path: url.path, problem: "not a prior for this autoencoder: \(problem)")
    }
    return flow
}

struct AutoencoderTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the VAE on Fashion-MNIST train + MNIST-5k train (64 500 images).",
        discussion: """
        Held-out numbers after every epoch are on Fashion-MNIST test + the MNIST-5k test split \
        (10 500 images). Keys: \(AutoencoderTrainingConfiguration.keys.joined(separator: ", ")). \
        The model and the optimiser state are written as one checkpoint (OUTPUT/last/\
        \(AutoencoderTrainingTask.modelFile), see `net2net train --help`) every checkpoint_every \
        steps, at the end and on Ctrl-C or SIGTERM; --resume continues exactly.

        Example:
          net2net autoencoder train --config configs/autoencoder.yaml --output-dir runs/autoencoder
        """)

    @OptionGroup var options: ImageTrainingOptions
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let settings = try options.settings(AutoencoderTrainingConfiguration.self)
        try options.train(settings, modelFile: AutoencoderTrainingTask.modelFile) { output, test in
            try ImageTrainingSetup.autoencoderTask(settings, outputDirectory: output, resume: options.resume, validation: test)
        }
    }
}

struct ClassifierTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the evaluation classifier on Fashion-MNIST train + MNIST-5k train.",
        discussion: """
        20 classes: 0–9 the Fashion-MNIST classes, 10–19 the digits 0–9; each digit image is \
        seen digit_repeats times per epoch. Held-out accuracy after every epoch is on \
        Fashion-MNIST test + the MNIST-5k test split. Keys: \
        \(ClassifierTrainingConfiguration.keys.joined(separator: ", ")).

        Example:
          net2net classifier train --config configs/classifier.yaml --output-dir runs/classifier
        """)

    @OptionGroup var options: ImageTrainingOptions
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let settings = try options.settings(ClassifierTrainingConfiguration.self)
        try options.train(settings, modelFile: ClassifierTrainingTask.modelFile, digitRepeats: settings.digitRepeats) { output, test in
            try ImageTrainingSetup.classifierTask(settings, outputDirectory: output, resume: options.resume, validation: test)
        }
    }
}

struct AutoencoderEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure the autoencoder and the classifier on the held-out images.",
        discussion: """
        Reports, on Fashion-MNIST test + the MNIST-5k test split (10 500 images): the \
        reconstruction MSE per pixel (images in [-1, 1], z = posterior mean) beside PCA with \
        as many components as z has dimensions (fitted on the training images); the \
        classifier's mean top probability on decoded prior samples z ~ N(0, I); FID-F of prior \
        samples and of reconstructions against the test images (and of two halves of the test \
        images, the noise floor); the classifier's accuracy on each test set. FID-F is the \
        Fréchet distance between Gaussians fitted to the classifier's 128-d penultimate features.

        --learned-prior also measures the shipped learned prior (models/autoencoder-prior), and \
        --prior DIR another: an unconditional τ trained on the posterior means of the training \
        images (the aggregate posterior, which N(0, I) does not fill), sampled as z = τ(v), \
        v ~ N(0, I), and decoded (learned_prior_sample_fid_f, learned_prior_sample_confidence; \
        the grid gets two more rows).

        Examples:
          net2net autoencoder evaluate --learned-prior --grid docs/autoencoder.png
          net2net encode --expert autoencoder --dataset train --output z_train.npy
          net2net train --config configs/autoencoder-prior.yaml --target z_train.npy --output-dir runs/prior
          net2net autoencoder evaluate --prior runs/prior
        """)

    @Option(help: "Autoencoder checkpoint (default: the shipped models/autoencoder.safetensors).") var autoencoder: String?
    @Option(help: "Classifier checkpoint (default: the shipped models/classifier.safetensors).") var classifier: String?
    @Option(help: "Prior samples to draw.") var samples: Int = 10_000
    @Option(help: "Seed for the prior samples.") var seed: UInt64 = 0
    @Option(help: "Also write a PNG: test images, their reconstructions, prior samples (and the learned prior's).") var grid: String?
    @Option(help: "A learned prior: an unconditional τ checkpoint on the autoencoder's latents.") var prior: String?
    @Flag(help: "Also measure the shipped learned prior (models/autoencoder-prior).") var learnedPrior = false
    @Flag(help: "Print one JSON object on stdout.") var json = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        guard samples >= 2 else { throw ValidationError("--samples must be at least 2") }
        try SizeLimit.check(count: samples, valuesPerItem: ConvolutionalVAE.pixelCount, parameter: "--samples")
        let vae = try ConvolutionalVAE.load(autoencoder.map(fileURL) ?? ShippedModels.autoencoder).model
        let classes = try EvaluationClassifier.load(classifier.map(fileURL) ?? ShippedModels.classifier).model
        let learnedPrior = try loadLearnedPrior(path: prior, shipped: self.learnedPrior, latentDimension: vae.latentDimension,
                                                ownAutoencoder: autoencoder != nil, autoencoderOption: "--autoencoder")
        let store = AssetStore()
        let train = try ImageDataset.fashionAndDigits(.train, store: store, progress: { note($0) })
        let test = try ImageDataset.fashionAndDigits(.test, store: store, progress: { note($0) })
        let report = try AutoencoderEvaluation.run(autoencoder: vae, classifier: classes, train: train, test: test,
                                                   priorSamples: samples, seed: seed, learnedPrior: learnedPrior,
                                                   progress: { note($0) })
        if let grid {
            try AutoencoderEvaluate.writeGrid(vae, test: test, seed: seed, learnedPrior: learnedPrior, to: fileURL(grid))
            note("wrote \(grid)")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print(String(format: "reconstruction MSE   %.5f   (PCA-%d: %.5f)", report.reconstructionMSE, report.latentDimension, report.pcaMSE))
        print(String(format: "prior samples        confidence %.3f   FID-F %.2f   (%d samples)",
                     report.priorSampleConfidence, report.priorSampleFID, report.priorSamples))
        if let fid = report.learnedPriorSampleFID, let confidence = report.learnedPriorSampleConfidence {
            print(String(format: "learned prior        confidence %.3f   FID-F %.2f   (%d samples)", confidence, fid, report.priorSamples))
        }
        print(String(format: "reconstructions      FID-F %.2f   (test halves: %.2f)", report.reconstructionFID, report.testHalvesFID))
        print(String(format: "classifier accuracy  fashion %.4f   digits %.4f", report.fashionAccuracy, report.digitAccuracy))
        if let real = report.classAccuracy, let reconstructed = report.reconstructionClassAccuracy {
            print("per class, test images / their reconstructions:")
            for (k, name) in EvaluationClassifier.classNames.enumerated() {
                print("  " + name.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: " %.3f / %.3f", real[k], reconstructed[k]))
            }
        }
    }

    /// Rows: 16 test images (8 fashion, 8 digits), their reconstructions, then
    /// 32 prior samples, then with `learnedPrior` 32 of its samples.
    static func writeGrid(_ vae: ConvolutionalVAE, test: ImageDataset, seed: UInt64, learnedPrior: ConditionalFlow? = nil,
                          to url: URL) throws {
        let fashion = test.domains.indices.filter { test.domains[$0] == .fashion }
        let digits = test.domains.indices.filter { test.domains[$0] == .digit }
        let picks = stride(from: 0, to: 8, by: 1).map { fashion[$0 * fashion.count / 8] }
            + stride(from: 0, to: 8, by: 1).map { digits[$0 * digits.count / 8] }
        let originals = test.subset(picks).images
        let reconstructions = try vae.decode(try vae.encode(originals))
        var generator = SeededGenerator(seed: seed)
        let samples = try vae.decode(generator.normalTensor([32, vae.latentDimension]))
        var scalars = originals.scalars + reconstructions.scalars + samples.scalars
        if let learnedPrior {
            var priorGenerator = SeededGenerator(seed: seed &+ 3)
            scalars += try vae.decode(learnedPrior.sample(condition: nil, count: 32, using: &priorGenerator)).scalars
        }
        let all = Tensor(shape: [scalars.count / ConvolutionalVAE.pixelCount, 1, 28, 28], scalars: scalars)
        try PNGImage.grid(all, columns: 16).write(to: url)
    }
}
