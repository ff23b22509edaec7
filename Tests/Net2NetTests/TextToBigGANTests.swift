import Experts
import Formats
import Foundation
import TensorCore
import XCTest
@testable import Net2Net

/// The text → BigGAN recipe end to end through the CLI on the random
/// reduced-width BigGAN (ExpertsTests/Fixtures/biggan: z 16, 10 classes,
/// 128×128; scripts/fixtures/make_biggan.py) with the real MiniLM: train,
/// sample, evaluate; and the error without weights.
final class TextToBigGANTests: XCTestCase {
    var directory: URL!
    let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ExpertsTests/Fixtures/biggan")

    override func setUpWithError() throws {
        try CLI.requireExecutable()
        directory = temporaryDirectory(name)
    }

    /// A small recipe: goldfish (1) and ostrich (9) of the fixture's ImageNet classes 0–9.
    func writeRecipe(weights: String?) throws {
        let recipe = """
            experiment: text-to-biggan
            \(weights.map { "weights: \($0)" } ?? "")
            truncation: 0.5
            classes: [1, 9]
            pairs: 384
            hidden_dim: 64
            n_flows: 4
            embedding_dim: 16
            conditioning_hidden_dim: 64
            batch_size: 64
            base_learning_rate: 2.0e-5
            weight_decay: 0
            steps: 200
            validation_fraction: 0.1
            log_every: 50
            validate_every: 100
            checkpoint_every: 200
            """
        try recipe.write(to: directory.appendingPathComponent("recipe.yaml"), atomically: true, encoding: .utf8)
    }

    func testWithoutWeightsTheRecipeSaysWhatIsMissing() throws {
        try writeRecipe(weights: nil)
        let needed = ["recipe.yaml", "biggan", "pytorch_model.bin", "config.json", "biggan-deep-128", "weights"]
        assertFails(try CLI.run(["experiment", "train", "recipe.yaml"], in: directory), mentioning: needed)
        assertFails(try CLI.run(["eval-experiment", "recipe.yaml"], in: directory), mentioning: needed)
        // Nothing was started: no run directory.
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("runs").path))
        // Weights that are not there are named.
        assertFails(try CLI.run(["experiment", "train", "recipe.yaml", "--weights", "absent"], in: directory),
                    mentioning: ["absent", "config.json"])
    }

    func testRecipeKeys() throws {
        func message(_ yaml: String) -> String {
            do { _ = try ExperimentRecipe.load(yaml: "experiment: text-to-biggan\n" + yaml); return "" } catch {
                return (error as? LocalizedError)?.errorDescription ?? "\(error)"
            }
        }
        XCTAssertTrue(message("truncation: 0").contains("'truncation' must be in (0, 1]"))
        XCTAssertTrue(message("classes: [1, -2]").contains("'classes' must be all or a list"))
        XCTAssertTrue(message("classes: [3, 3]").contains("distinct"))
        XCTAssertTrue(message("class_noise: -1").contains("'class_noise'"))
        let recipe = try ExperimentRecipe.load(yaml: "experiment: text-to-biggan\nclasses: [7, 1]\ntruncation: 0.25")
        XCTAssertEqual(recipe.biggan.classes, [7, 1])
        XCTAssertEqual(recipe.biggan.truncation, 0.25)
        XCTAssertEqual(recipe.conditionExpert, ExpertName.minilm)
        XCTAssertNil(try ExperimentRecipe.load(yaml: "experiment: text-to-biggan\nclasses: all").biggan.classes)
        XCTAssertThrowsError(try recipe.biggan.classIDs(classCount: 5)) { error in
            XCTAssertTrue((error as? LocalizedError)?.errorDescription?.contains("class 7 is not in 0…4") ?? false)
        }
        XCTAssertEqual(BigGANPairs.caption("a photo of a {}", name: "ostrich"), "a photo of an ostrich")
        XCTAssertEqual(BigGANPairs.caption("an image of a {}", name: "goldfish"), "an image of a goldfish")
    }

    func testTrainSampleAndEvaluateOnTheFixture() throws {
        try writeRecipe(weights: model.path)
        let trained = try CLI.run(["experiment", "train", "recipe.yaml"], in: directory)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let run = directory.appendingPathComponent("runs/recipe")
        let manifest = try XCTUnwrap(try ExperimentManifest.load(run))
        XCTAssertEqual(manifest.experiment, .textToBigGAN)
        XCTAssertEqual(manifest.latentDimension, 32)
        XCTAssertEqual(manifest.truncation, 0.5)
        XCTAssertEqual(manifest.classes, [1, 9])
        XCTAssertEqual(manifest.weights, model.standardizedFileURL.path)
        XCTAssertEqual(try PNGImage.read(run.appendingPathComponent("samples.png")).width, 4 * 128 + 5 * 2)

        // Decoded images for a prompt, with the weights experiment.json names.
        let images = try CLI.run(["sample", "--checkpoint", "runs/recipe", "--text", "a photo of a goldfish", "--count", "2",
                                  "--output", "x.npy"], in: directory)
        XCTAssertEqual(images.status, 0, images.stderr)
        let x = try NPY.readFloat32(directory.appendingPathComponent("x.npy"))
        XCTAssertEqual(x.shape, [2, 3, 128, 128])
        XCTAssertTrue(x.scalars.allSatisfy { $0.isFinite && $0 >= -1 && $0 <= 1 })
        let grid = try CLI.run(["sample", "--checkpoint", "runs/recipe", "--text", "a photo of a goldfish", "--output", "x.png",
                                "--weights", model.path], in: directory)
        XCTAssertEqual(grid.status, 0, grid.stderr)

        // The class part of τ's samples lies nearer the class the prompt names.
        let biggan = try BigGAN(weights: model)
        let e = try biggan.classEmbeddings(try biggan.oneHot([1, 9]))
        func meanDistances(_ prompt: String) throws -> [Double] {
            let result = try CLI.run(["sample", "--checkpoint", "runs/recipe", "--text", prompt, "--count", "40", "--latents",
                                      "--output", "z.npy", "--seed", "3"], in: directory)
            XCTAssertEqual(result.status, 0, result.stderr)
            let z = try NPY.readFloat32(directory.appendingPathComponent("z.npy"))
            XCTAssertEqual(z.shape, [40, 32])
            XCTAssertTrue(z.isFinite)
            return (0..<2).map { k in
                (0..<40).reduce(0.0) { total, n in
                    total + Double((0..<16).reduce(Float(0)) { d, j in
                        let diff = z.scalars[n * 32 + 16 + j] - e.scalars[k * 16 + j]
                        return d + diff * diff
                    }.squareRoot())
                } / 40
            }
        }
        let goldfish = try meanDistances("a picture of a goldfish"), ostrich = try meanDistances("an image of an ostrich")
        XCTAssertLessThan(goldfish[0], goldfish[1], "goldfish prompt: mean distance to goldfish, ostrich \(goldfish)")
        XCTAssertLessThan(ostrich[1], ostrich[0], "ostrich prompt: mean distance to goldfish, ostrich \(ostrich)")

        // The evaluation: its own report, finite.
        let evaluated = try CLI.run(["eval-experiment", "recipe.yaml", "--json", "--held-out-pairs", "100", "--samples", "20"],
                                    in: directory)
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        let report = try JSONDecoder().decode(BigGANTranslationReport.self, from: Data(evaluated.stdout.utf8))
        XCTAssertEqual(report.experiment, "text-to-biggan")
        XCTAssertEqual(report.heldOutPairs, 100)
        XCTAssertEqual(report.classes, 2)
        XCTAssertEqual(report.chanceAccuracy, 0.5)
        XCTAssertTrue(report.heldOutNatsPerDim.isFinite && report.priorNatsPerDim.isFinite, "\(report)")
        XCTAssertTrue((0...1).contains(report.classAccuracy), "\(report)")
        // Two well-separated classes: τ picks the named one (1.0 measured here) far above chance.
        XCTAssertGreaterThan(report.classAccuracy, 0.9, "\(report)")
        XCTAssertLessThan(report.heldOutNatsPerDim, report.priorNatsPerDim, "\(report)")
        // A recipe naming other classes does not evaluate this τ.
        let recipe = try String(contentsOf: directory.appendingPathComponent("recipe.yaml"), encoding: .utf8)
        try recipe.replacingOccurrences(of: "classes: [1, 9]", with: "classes: [1, 2]")
            .write(to: directory.appendingPathComponent("other.yaml"), atomically: true, encoding: .utf8)
        assertFails(try CLI.run(["eval-experiment", "other.yaml", "--checkpoint", "runs/recipe"], in: directory),
                    mentioning: ["runs/recipe", "classes [1, 9]", "[1, 2]"])
    }
}
