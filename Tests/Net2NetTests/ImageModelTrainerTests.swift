import XCTest
import Experts
import Layers
import TensorCore
@testable import Net2Net

final class ImageModelTrainerTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("image-trainer-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Blobs at class-dependent positions, so that there is something to learn.
    func data(_ count: Int, seed: UInt64) -> (Tensor, [Int]) {
        var g = SeededGenerator(seed: seed)
        var images = Tensor(repeating: -1, shape: [count, 1, 28, 28])
        var labels: [Int] = []
        for n in 0..<count {
            let label = Int(g.next() % 4)
            labels.append(label)
            let ci = 7 + 14 * (label / 2), cj = 7 + 14 * (label % 2)
            for i in 0..<28 { for j in 0..<28 where (i - ci) * (i - ci) + (j - cj) * (j - cj) < 20 {
                images.scalars[n * 784 + i * 28 + j] = 0.8 + 0.2 * g.nextUniform()
            } }
        }
        return (images, labels)
    }

    func makeTrainer(resume: Bool, output: URL) throws -> (ImageModelTrainer, ConvolutionalVAE) {
        let (images, labels) = data(48, seed: 1)
        let (test, _) = data(16, seed: 2)
        let architecture = AutoencoderArchitecture(latentDimension: 4, width: 4)
        let model = resume ? try ConvolutionalVAE.load(CheckpointDirectory.modelDirectory(for: output, slot: CheckpointDirectory.lastSlot)).model
                           : ConvolutionalVAE(architecture: architecture, seed: 3)
        let task = AutoencoderTrainingTask(model: model, beta: 1, seed: 4, batchSize: 8, validation: test)
        let trainer = try ImageModelTrainer(task: task, images: images, labels: labels, batchSize: 8, epochs: 3,
                                            learningRate: 3e-3, seed: 5, outputDirectory: output, logEvery: 2,
                                            checkpointEvery: 100, settingsJSON: "{\"test\":1}", resume: resume)
        return (trainer, model)
    }

    func testVAETrainingLowersTheLossAndResumesExactly() throws {
        let whole = directory.appendingPathComponent("whole"), split = directory.appendingPathComponent("split")
        let (trainer, model) = try makeTrainer(resume: false, output: whole)
        var losses: [Double] = [], validations: [[(String, Double)]] = []
        try trainer.run(onEvent: { event in
            if case let .progress(_, _, _, loss, _, _) = event { losses.append(loss) }
            if case let .validation(_, _, metrics) = event { validations.append(metrics) }
        })
        XCTAssertEqual(trainer.step, 18)
        XCTAssertEqual(validations.count, 3)
        XCTAssertLessThan(losses.last!, losses.first!)
        XCTAssertTrue(model.parameters.array().allSatisfy(\.isFinite))

        // Stop after step 7, resume from the checkpoint, and land on the same bits.
        let (first, _) = try makeTrainer(resume: false, output: split)
        try first.run(shouldStop: { first.step >= 7 })
        XCTAssertEqual(first.step, 7)
        let (second, resumed) = try makeTrainer(resume: true, output: split)
        XCTAssertEqual(second.step, 7)
        try second.run()
        XCTAssertEqual(resumed.parameters.array(), model.parameters.array())
        XCTAssertEqual(resumed.buffers.array(), model.buffers.array())

        // The saved model decodes exactly as the trained one.
        let loaded = try ConvolutionalVAE.load(whole)
        XCTAssertEqual(loaded.step, 18)
        let z = Tensor(shape: [2, 4], scalars: [0.1, -0.2, 0.3, 0.4, 1, 0, -1, 0.5])
        XCTAssertEqual(try loaded.model.decode(z), try model.decode(z))
    }

    /// The `best` checkpoint is the model of the lowest held-out loss, readers
    /// take it by default, `last` is the final step, and resume keeps the record.
    func testBestHeldOutLossIsKeptAndRead() throws {
        let output = directory.appendingPathComponent("best")
        let (trainer, _) = try makeTrainer(resume: false, output: output)
        var losses: [(step: Int, loss: Double)] = []
        try trainer.run(onEvent: { event in
            if case let .validation(step, _, metrics) = event { losses.append((step, metrics.first { $0.0 == "loss" }!.1)) }
        })
        let lowest = try XCTUnwrap(losses.min { $0.loss < $1.loss })
        XCTAssertEqual(trainer.best?.step, lowest.step)
        XCTAssertEqual(trainer.best?.value, lowest.loss)
        XCTAssertEqual(try ConvolutionalVAE.load(output).step, lowest.step)
        XCTAssertEqual(try ConvolutionalVAE.load(output.appendingPathComponent(CheckpointDirectory.lastSlot)).step, 18)
        // Oracle: the stored best model scores its recorded held-out loss again.
        let (test, _) = data(16, seed: 2)
        let again = try ConvolutionalVAE.load(output).model.evaluate(test, beta: 1)
        XCTAssertEqual(again.loss / Double(ConvolutionalVAE.pixelCount), lowest.loss, accuracy: 1e-9)
        let (resumed, _) = try makeTrainer(resume: true, output: output)
        XCTAssertEqual(resumed.best?.step, lowest.step)
        XCTAssertEqual(resumed.best?.value, lowest.loss)
    }

    func testResumeRefusesOtherSettingsAndCorruptCheckpoints() throws {
        let output = directory.appendingPathComponent("run")
        let (trainer, _) = try makeTrainer(resume: false, output: output)
        try trainer.run(shouldStop: { trainer.step >= 2 })
        let (images, labels) = data(48, seed: 1)
        let model = try ConvolutionalVAE.load(output).model
        let task = AutoencoderTrainingTask(model: model, beta: 1, seed: 4, batchSize: 8, validation: images)
        XCTAssertThrowsError(try ImageModelTrainer(task: task, images: images, labels: labels, batchSize: 8, epochs: 3,
                                                   learningRate: 3e-3, seed: 5, outputDirectory: output,
                                                   settingsJSON: "{\"test\":2}", resume: true)) { error in
            XCTAssertTrue(error.localizedDescription.contains("other settings"), error.localizedDescription)
        }
        let file = CheckpointDirectory.file(AutoencoderTrainingTask.modelFile, at: output)
        try Data("not a checkpoint".utf8).write(to: file)
        XCTAssertThrowsError(try ConvolutionalVAE.load(file)) { error in
            XCTAssertTrue(error.localizedDescription.contains(file.path), error.localizedDescription)
        }
        XCTAssertThrowsError(try EvaluationClassifier.load(CheckpointDirectory.file(ImageModelTrainer.stateFile, at: output))) { error in
            XCTAssertTrue(error.localizedDescription.contains("not a net2net classifier"), error.localizedDescription)
        }
    }
}
