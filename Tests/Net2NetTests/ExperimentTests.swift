import XCTest
import Datasets
import Experts
import Flow
import Formats
import TensorCore
@testable import Net2Net

/// Each recipe at a tiny size on real data with the real (shipped) experts:
/// pairs, a few training steps, invertibility of the trained τ on its pairs,
/// decoded samples and the evaluation report.
final class ExperimentTests: XCTestCase {
    nonisolated(unsafe) static var data: (train: ImageDataset, test: ImageDataset)?

    func datasets() throws -> (train: ImageDataset, test: ImageDataset) { try ExperimentTests.datasets() }

    static func datasets() throws -> (train: ImageDataset, test: ImageDataset) {
        if let data = ExperimentTests.data { return data }
        let store = AssetStore()
        do {
            let all = (try ImageDataset.fashionAndDigits(.train, store: store), try ImageDataset.fashionAndDigits(.test, store: store))
            // Every class, a few images each, fashion and digits.
            func pick(_ d: ImageDataset, _ perClass: Int) -> ImageDataset {
                let labels = EvaluationClassifier.labels(of: d)
                return d.subset((0..<20).flatMap { c in labels.indices.filter { labels[$0] == c }.prefix(perClass) })
            }
            let small = (pick(all.0, 15), pick(all.1, 6))
            ExperimentTests.data = small
            return small
        } catch let error as ExpertError {
            if case .fetchFailed = error {
                print("ExperimentTests: skipped, the data sets cannot be fetched here: \(error.localizedDescription)")
                throw XCTSkip(error.localizedDescription)
            }
            throw error
        }
    }

    func run(_ kind: ExperimentKind) throws {
        let (train, test) = try datasets()
        let autoencoder = try ConvolutionalVAE.load(ShippedModels.autoencoder).model
        let experts = ExperimentExperts(kind: kind, autoencoder: autoencoder)
        let attributes = kind == .textToImage ? ImageAttributes(fitting: train) : nil
        let data = try experts.pairs(train, attributes: attributes, captionsPerImage: 2, seed: 3)
        let pairsPerImage = kind == .textToImage ? 2 : 1
        XCTAssertEqual(data.pairs.count, pairsPerImage * train.count)
        XCTAssertEqual(data.pairs.dimension, 64)
        XCTAssertEqual(data.pairs.conditionDimension, kind == .textToImage ? 384 : 20)
        XCTAssertEqual(data.captions.count, kind == .textToImage ? data.pairs.count : 0)

        var recipe = try ExperimentRecipe.load(yaml: """
            experiment: \(kind.rawValue)
            hidden_dim: 32
            n_flows: 3
            embedding_dim: 16
            conditioning_hidden_dim: 32
            batch_size: 32
            steps: 12
            validation_fraction: 0.1
            log_every: 4
            validate_every: 6
            checkpoint_every: 12
            """)
        recipe.flow.seed = 5
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("experiment-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trainer = try Trainer(configuration: recipe.flow, data: data.pairs, outputDirectory: directory)
        try trainer.run()
        XCTAssertEqual(trainer.step, 12)
        XCTAssertTrue(trainer.losses.allSatisfy(\.isFinite))
        // τ is invertible on its pairs.
        let flow = try FlowCheckpoint.load(directory).flow
        let v = flow.forward(data.pairs.target, condition: data.pairs.condition).output
        let back = flow.inverse(v, condition: data.pairs.condition).output
        var worst: Float = 0
        for i in 0..<back.count { worst = max(worst, abs(back.scalars[i] - data.pairs.target.scalars[i])) }
        XCTAssertLessThan(worst, 1e-3)

        let classifier = try EvaluationClassifier.load(ShippedModels.classifier).model
        let evaluation = ExperimentEvaluation(flow: flow, experts: experts, classifier: classifier)
        let (conditions, _) = try experts.conditions(labels: [7, 13], seed: 1)
        let images = try evaluation.samples(conditions, count: 3, seed: 2)
        XCTAssertEqual(images.shape, [6, 1, 28, 28])
        XCTAssertTrue(images.scalars.allSatisfy { $0.isFinite && $0 >= -1 && $0 <= 1 })
        let report = try evaluation.run(test: test, train: train, attributes: attributes, samplesPerCondition: 4,
                                        regressorTrainingPairs: kind == .labelToImage ? data.pairs : nil, seed: 1)
        XCTAssertEqual(report.heldOutPairs, test.count)
        for value in [report.heldOutNatsPerDim, report.conditionalAccuracy, report.fid, report.diversity, report.realDiversity] {
            XCTAssertTrue(value.isFinite, "\(report)")
        }
        XCTAssertGreaterThan(report.diversity, 0)
        if kind == .textToImage {
            XCTAssertNotNil(report.promptAccuracy)
        } else {
            let swap = try XCTUnwrap(report.swap)
            XCTAssertEqual(swap.count, test.count)
            XCTAssertTrue(swap.fid.isFinite && swap.arithmeticFID.isFinite)
            // The deterministic baseline has no diversity at all (up to the rounding of
            // GEMMs over different batch shares).
            let mlp = try XCTUnwrap(report.regressor)
            XCTAssertLessThan(mlp.diversity, 1e-5)
            XCTAssertTrue(mlp.fid.isFinite)
        }
        // The manifest round-trips.
        try ExperimentManifest(experiment: kind, latentDimension: 64, attributes: attributes).save(to: directory)
        XCTAssertEqual(try ExperimentManifest.load(directory)?.attributes, attributes)
    }

    func testLabelToImage() throws { try run(.labelToImage) }
    func testTextToImage() throws { try run(.textToImage) }

    func testRecipeErrors() {
        func message(_ yaml: String) -> String {
            do { _ = try ExperimentRecipe.load(yaml: yaml, source: "r.yaml"); return "no error" } catch { return error.localizedDescription }
        }
        XCTAssertTrue(message("experiment: pictures").contains("'experiment' must be one of label-to-image, text-to-image"))
        XCTAssertTrue(message("experiment: text-to-image\ncaptions_per_image: 0").contains("'captions_per_image' must be an integer ≥ 1"))
        XCTAssertTrue(message("hiden_dim: 3").contains("unknown key 'hiden_dim'"))
        XCTAssertTrue(message("hiden_dim: 3").contains("train_images"))
        XCTAssertTrue(message("steps: 0").contains("steps must be at least 1"))
        XCTAssertTrue(message("experiment: text-to-image\ntext_expert: bert").contains("'text_expert' must be one of minilm, mpnet"))
    }

    /// `text_expert` chooses Φ for text → image, and the manifest records it
    /// (so that `sample --text` encodes prompts with the same expert).
    func testTextExpertChoosesTheConditionExpert() throws {
        let recipe = try ExperimentRecipe.load(yaml: "experiment: text-to-image\ntext_expert: mpnet")
        XCTAssertEqual(recipe.conditionExpert, ExpertName.mpnet)
        XCTAssertEqual(recipe.metadata["condition_expert"], ExpertName.mpnet)
        XCTAssertEqual(ExperimentManifest(recipe: recipe, latentDimension: 64, attributes: nil).conditionExpert, ExpertName.mpnet)
        XCTAssertEqual(try ExperimentRecipe.load(yaml: "experiment: text-to-image").conditionExpert, ExpertName.minilm)
        XCTAssertEqual(try ExperimentRecipe.load(yaml: "experiment: label-to-image\ntext_expert: mpnet").conditionExpert,
                       ExpertName.label, "text_expert only concerns text → image")
    }

    /// eval-experiment refuses, with the reason, a checkpoint whose manifest
    /// names another text expert than the recipe (it would feed τ conditions
    /// of the wrong width).
    func testEvalExperimentRefusesAnotherTextExpert() throws {
        try CLI.requireExecutable()
        let directory = temporaryDirectory(name)
        let run = directory.appendingPathComponent("run")
        let recipe = try ExperimentRecipe.load(yaml: "experiment: text-to-image\ntext_expert: mpnet")
        try ExperimentManifest(recipe: recipe, latentDimension: 64, attributes: nil).save(to: run)
        let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs")
        let result = try CLI.run(["eval-experiment", configs.appendingPathComponent("text-to-image.yaml").path,
                                  "--checkpoint", "run"], in: directory)
        assertFails(result, mentioning: ["was trained with the mpnet expert, the recipe says minilm"])
    }
}
