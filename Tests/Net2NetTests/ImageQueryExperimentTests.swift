import XCTest
import Datasets
import Experts
import Flow
import Formats
import TensorCore
@testable import Net2Net

/// Edges-to-image, inpainting and GAN translation at a tiny size with the real
/// experts (EfficientNet-Lite0, the DCGAN, the shipped autoencoder and
/// classifier): pairs, a few training steps, invertibility of the trained τ on
/// its pairs, decoded samples, grids and the evaluation report.
final class ImageQueryExperimentTests: XCTestCase {
    static let tinyFlow = """
        hidden_dim: 32
        n_flows: 3
        embedding_dim: 16
        conditioning_hidden_dim: 32
        batch_size: 16
        steps: 12
        validation_fraction: 0.1
        log_every: 4
        validate_every: 6
        checkpoint_every: 12
        """

    /// Trains τ for 12 steps on `pairs` and checks it is invertible on them.
    func trainTiny(_ kind: ExperimentKind, _ pairs: PairDataset, in directory: URL) throws -> ConditionalFlow {
        var recipe = try ExperimentRecipe.load(yaml: "experiment: \(kind.rawValue)\n" + ImageQueryExperimentTests.tinyFlow)
        recipe.flow.seed = 5
        let trainer = try Trainer(configuration: recipe.flow, data: pairs, outputDirectory: directory)
        try trainer.run()
        XCTAssertEqual(trainer.step, 12)
        XCTAssertTrue(trainer.losses.allSatisfy(\.isFinite))
        let flow = try FlowCheckpoint.load(directory).flow
        let v = flow.forward(pairs.target, condition: pairs.condition).output
        let back = flow.inverse(v, condition: pairs.condition).output
        var worst: Float = 0
        for i in 0..<back.count { worst = max(worst, abs(back.scalars[i] - pairs.target.scalars[i])) }
        XCTAssertLessThan(worst, 1e-3)
        return flow
    }

    func runImageQueries(_ kind: ExperimentKind, edges: EdgeOperator = .sobel) throws {
        let (allTrain, allTest) = try ExperimentTests.datasets()
        // Four training and two test images of each class.
        func pick(_ d: ImageDataset, _ perClass: Int) -> ImageDataset {
            let labels = EvaluationClassifier.labels(of: d)
            return d.subset((0..<20).flatMap { c in labels.indices.filter { labels[$0] == c }.prefix(perClass) })
        }
        let train = pick(allTrain, 4), test = pick(allTest, 2)
        let autoencoder = try ConvolutionalVAE.load(ShippedModels.autoencoder).model
        let experts = ExperimentExperts(kind: kind, autoencoder: autoencoder, mask: .lowerHalf, edges: edges)
        let queries = try experts.queryImages(train.images)
        XCTAssertEqual(queries.shape, train.images.shape)
        XCTAssertTrue(queries.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        if edges == .hed {
            // HED's maps of the images as 8-bit RGB, probabilities p shown as 2p − 1.
            let pixels = train.images.scalars.flatMap { v in
                Array(repeating: UInt8(max(0, min(255, ((v + 1) * 127.5).rounded()))), count: 3)
            }
            let direct = try experts.edgeDetector().edges(pixels: pixels, count: train.count, height: 28, width: 28)
            XCTAssertLessThanOrEqual(zip(queries.scalars, direct.scalars).map { abs($0 - (2 * $1 - 1)) }.max()!, 1e-5)
        }
        if kind == .inpainting {
            XCTAssertTrue(queries.scalars[(14 * 28)..<(28 * 28)].allSatisfy { $0 == -1 }, "the lower half is hidden")
        }
        let data = try experts.pairs(train, attributes: nil, seed: 3)
        XCTAssertEqual(data.pairs.count, train.count)
        XCTAssertEqual(data.pairs.dimension, 64)
        XCTAssertEqual(data.pairs.conditionDimension, EfficientNetLite.featureDimension)
        XCTAssertTrue(data.pairs.condition.isFinite)
        XCTAssertEqual(data.labels, EvaluationClassifier.labels(of: train))

        let directory = temporaryDirectory("imagequeries\(kind.rawValue)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow = try trainTiny(kind, data.pairs, in: directory)
        let classifier = try EvaluationClassifier.load(ShippedModels.classifier).model
        let evaluation = ExperimentEvaluation(flow: flow, experts: experts, classifier: classifier)
        let images = try evaluation.samples(data.pairs.condition.rows(0..<2), count: 3, seed: 2)
        XCTAssertEqual(images.shape, [6, 1, 28, 28])
        XCTAssertTrue(images.scalars.allSatisfy { $0.isFinite && $0 >= -1 && $0 <= 1 })

        let report = try evaluation.run(test: test, train: train, attributes: nil, samplesPerCondition: 2, seed: 1)
        XCTAssertEqual(report.experiment, kind.rawValue)
        XCTAssertEqual(report.heldOutPairs, test.count)
        for value in [report.heldOutNatsPerDim, report.conditionalAccuracy, report.fid, report.realHalvesFID,
                      report.diversity, report.realDiversity] {
            XCTAssertTrue(value.isFinite, "\(report)")
        }
        XCTAssertTrue((0...1).contains(report.conditionalAccuracy))
        XCTAssertGreaterThan(report.diversity, 0)
        XCTAssertNoThrow(try JSONEncoder().encode(report))

        let grid = directory.appendingPathComponent("samples.png")
        try ExperimentGrids.queryGrid(flow: flow, experts: experts, images: test.subset([0, 1, 2]), columns: 4, seed: 0, to: grid)
        let png = try PNGImage.read(grid)
        XCTAssertEqual(png.width, 6 * 28 + 7 * 2)
        XCTAssertEqual(png.height, 3 * 28 + 4 * 2)
    }

    func testEdgesToImage() throws { try runImageQueries(.edgesToImage) }
    func testEdgesToImageWithHED() throws { try runImageQueries(.edgesToImage, edges: .hed) }
    func testInpainting() throws { try runImageQueries(.inpainting) }

    func testGANTranslation() throws {
        let experts = ExperimentExperts(imageQueries: .ganTranslation)
        let (pairs, faces) = try experts.facePairs(count: 40, seed: 1)
        XCTAssertEqual(pairs.target.shape, [40, FaceGenerator.latentDimension])
        XCTAssertEqual(pairs.condition.shape, [40, EfficientNetLite.featureDimension])
        XCTAssertEqual(faces.shape, [40, 3, 64, 64])
        XCTAssertTrue(pairs.condition.isFinite)
        // z_Φ is the face's PNG, seen by EfficientNet.
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let png = directory.appendingPathComponent("face.png")
        try PNGImage.grid(faces.rows(0..<1), columns: 1, border: 0).write(to: png)
        let fromFile = try experts.condition(imageFile: png.path)
        var largest: Float = 0
        for j in 0..<EfficientNetLite.featureDimension { largest = max(largest, abs(fromFile.scalars[j] - pairs.condition.scalars[j])) }
        XCTAssertLessThan(largest, 1e-4)

        let flow = try trainTiny(.ganTranslation, pairs, in: directory.appendingPathComponent("run"))
        let evaluation = ExperimentEvaluation(flow: flow, experts: experts, classifier: EvaluationClassifier())
        XCTAssertEqual(try evaluation.samples(pairs.condition.rows(0..<1), count: 2, seed: 0).shape, [2, 3, 64, 64])
        let report = try evaluation.runFaceTranslation(queries: 4, heldOutPairs: 6, samplesPerQuery: 2, seed: 1)
        XCTAssertEqual(report.heldOutPairs, 6)
        XCTAssertEqual(report.faceQueries.map(\.query), ["face", "edges", "masked"])
        var values = [report.heldOutNatsPerDim, report.faceQueriesNearerThanRandom, report.fidEfficientNet,
                      report.randomFacesFIDEfficientNet, report.diversity, report.randomFacesDiversity, report.priorNatsPerDim]
        for q in report.faceQueries { values += [q.similarity, q.randomSimilarity, q.faceSimilarity, q.randomFaceSimilarity] }
        XCTAssertEqual(report.gainOverPriorNatsPerDim, report.priorNatsPerDim - report.heldOutNatsPerDim, accuracy: 1e-12)
        // Its own keys: none of the class-based experiments' keys appears with another meaning.
        let keys = Set((try JSONSerialization.jsonObject(with: try JSONEncoder().encode(report)) as? [String: Any] ?? [:]).keys)
        XCTAssertTrue(keys.isDisjoint(with: ["conditional_accuracy", "fid_f", "real_halves_fid_f", "real_diversity",
                                             "samples_per_condition"]), "\(keys)")
        XCTAssertTrue(keys.isSuperset(of: ["held_out_nats_per_dim", "prior_nats_per_dim", "face_queries_nearer_than_random"]))
        for value in values { XCTAssertTrue(value.isFinite, "\(report)") }
        XCTAssertGreaterThan(report.diversity, 0)
        // The face query is its own source face.
        let face = try XCTUnwrap(report.faceQueries.first)
        XCTAssertEqual(face.similarity, face.faceSimilarity, accuracy: 1e-9)
        XCTAssertNoThrow(try JSONEncoder().encode(report))
        // Image queries only: no classes, no data set.
        XCTAssertThrowsError(try experts.conditions(labels: [1], seed: 0))

        let grid = directory.appendingPathComponent("samples.png")
        try ExperimentGrids.faceGrid(flow: flow, experts: experts, faces: 1, columns: 2, seed: 0, to: grid)
        let image = try PNGImage.read(grid)
        XCTAssertEqual(image.width, 3 * 64 + 4 * 2)
        XCTAssertEqual(image.height, 3 * 64 + 4 * 2)
    }

    func testRecipesAndManifests() throws {
        for (file, kind) in [("edges-to-image.yaml", ExperimentKind.edgesToImage), ("inpainting.yaml", .inpainting),
                             ("gan-translation.yaml", .ganTranslation)] {
            let recipe = try ExperimentRecipe.load(file: ShippedModels.recipe(file).path)
            XCTAssertEqual(recipe.kind, kind)
            XCTAssertEqual(recipe.flow.hiddenDimension, 128)
            XCTAssertEqual(recipe.metadata["condition_expert"], "efficientnet-lite0")
            XCTAssertEqual(recipe.metadata["target_expert"], kind == .ganTranslation ? "dcgan-faces" : "autoencoder")
        }
        XCTAssertEqual(try ExperimentRecipe.load(file: ShippedModels.recipe("gan-translation.yaml").path).pairs, 40000)
        let boxes = try ExperimentRecipe.load(yaml: "experiment: inpainting\nmask: random-box\nseed: 9")
        XCTAssertEqual(boxes.maskRegion, .randomBox(seed: 9))
        func message(_ yaml: String) -> String {
            do { _ = try ExperimentRecipe.load(yaml: yaml, source: "r.yaml"); return "no error" } catch { return error.localizedDescription }
        }
        XCTAssertTrue(message("experiment: inpainting\nmask: left").contains("'mask' must be one of lower-half, upper-half, random-box"))
        XCTAssertTrue(message("experiment: gan-translation\npairs: 1").contains("'pairs' must be an integer ≥ 2"))
        XCTAssertTrue(message("experiment: edge").contains("edges-to-image, inpainting, gan-translation"))
        XCTAssertTrue(message("experiment: edges-to-image\nedges: canny").contains("'edges' must be one of sobel, hed"))
        let hed = try ExperimentRecipe.load(yaml: "experiment: edges-to-image\nedges: hed")
        XCTAssertEqual(hed.edges, .hed)
        XCTAssertEqual(hed.metadata["edges"], "hed")

        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try ExperimentManifest(recipe: boxes, latentDimension: 64, attributes: nil).save(to: directory)
        let manifest = try XCTUnwrap(try ExperimentManifest.load(directory))
        XCTAssertEqual(manifest.maskRegion, .randomBox(seed: 9))
        XCTAssertEqual(manifest.conditionExpert, "efficientnet-lite0")
        try ExperimentManifest(recipe: hed, latentDimension: 64, attributes: nil).save(to: directory)
        XCTAssertEqual(try ExperimentManifest.load(directory)?.edgeOperator(checkpoint: "run"), .hed)
        var unknown = try XCTUnwrap(try ExperimentManifest.load(directory))
        unknown.edges = "canny"
        XCTAssertThrowsError(try unknown.edgeOperator(checkpoint: "run")) { error in
            XCTAssertTrue(error.localizedDescription.contains("unknown edge operator 'canny'"), error.localizedDescription)
        }
        // Manifests written before masks existed still load.
        try #"{"experiment": "label-to-image", "condition_expert": "label", "target_expert": "autoencoder", "latent_dim": 64}"#
            .write(to: directory.appendingPathComponent(ExperimentManifest.file), atomically: true, encoding: .utf8)
        XCTAssertNil(try ExperimentManifest.load(directory)?.mask)
        XCTAssertEqual(try ExperimentManifest.load(directory)?.edgeOperator(checkpoint: "run"), .sobel)
    }
}

/// `sample --image`: the query image's route per experiment, and its errors.
final class SampleImageCommandTests: XCTestCase {
    /// A flow checkpoint for conditions `[N, Dc]` → latents `[N, D]`, marked as an experiment of `kind`.
    func checkpoint(_ kind: ExperimentKind, conditionDimension: Int, dimension: Int, in directory: URL) throws -> String {
        var g = SeededGenerator(seed: 1)
        try NPY.write(g.normalTensor([64, conditionDimension]), to: directory.appendingPathComponent("c.npy"))
        try NPY.write(g.normalTensor([64, dimension]), to: directory.appendingPathComponent("z.npy"))
        try "hidden_dim: 8\nn_flows: 2\nembedding_dim: 4\nconditioning_hidden_dim: 8\nbatch_size: 16\nsteps: 2\n"
            .write(to: directory.appendingPathComponent("tiny.yaml"), atomically: true, encoding: .utf8)
        let name = kind.rawValue
        let trained = try CLI.run(["train", "--config", "tiny.yaml", "--condition", "c.npy", "--target", "z.npy",
                                   "--output-dir", name], in: directory)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        try ExperimentManifest(experiment: kind, latentDimension: dimension, attributes: nil)
            .save(to: directory.appendingPathComponent(name))
        return name
    }

    func testSampleImageErrorsAndFaces() throws {
        guard FileManager.default.isExecutableFile(atPath: CLI.executable.path) else {
            throw XCTSkip("the net2net executable is not built; run scripts/test, which builds it first")
        }
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var g = SeededGenerator(seed: 2)
        try PNGImage.grid(Tensor(shape: [1, 3, 40, 30], scalars: (0..<3600).map { _ in 2 * g.nextUniform() - 1 }), columns: 1, border: 0)
            .write(to: directory.appendingPathComponent("query.png"))
        try Data("not a picture".utf8).write(to: directory.appendingPathComponent("fake.png"))
        let labels = try checkpoint(.labelToImage, conditionDimension: 20, dimension: 64, in: directory)
        let faces = try checkpoint(.ganTranslation, conditionDimension: EfficientNetLite.featureDimension,
                                   dimension: FaceGenerator.latentDimension, in: directory)
        func fails(_ arguments: [String], _ words: [String]) throws {
            let result = try CLI.run(["sample"] + arguments, in: directory)
            XCTAssertNotEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stderr.lowercased().hasPrefix("error: "), result.stderr)
            XCTAssertFalse(result.stderr.contains("Fatal error"), result.stderr)
            for word in words { XCTAssertTrue(result.stderr.contains(word), "'\(word)' not in: \(result.stderr)") }
        }
        try fails(["--checkpoint", labels, "--image", "query.png", "--output", "x.png"],
                  ["--image needs an edges-to-image, inpainting or gan-translation checkpoint", "label-to-image"])
        try fails(["--checkpoint", faces, "--image", "c.npy", "--output", "x.png"], ["c.npy", "--image takes a PNG file"])
        try fails(["--checkpoint", faces, "--image", "fake.png", "--output", "x.png"], ["fake.png", "not a PNG file"])
        try fails(["--checkpoint", faces, "--image", "missing.png", "--output", "x.png"], ["missing.png"])
        try fails(["--checkpoint", faces, "--image", "query.png", "--label", "3", "--output", "x.png"], ["give one of"])
        // A GAN translation checkpoint decodes with the DCGAN.
        let sampled = try CLI.run(["sample", "--checkpoint", faces, "--image", "query.png", "--count", "2",
                                   "--output", "faces.npy"], in: directory)
        XCTAssertEqual(sampled.status, 0, sampled.stderr)
        let decoded = try NPY.readFloat32(directory.appendingPathComponent("faces.npy"))
        XCTAssertEqual(decoded.shape, [2, 3, 64, 64])
        XCTAssertTrue(decoded.scalars.allSatisfy { $0.isFinite && abs($0) <= 1 })
        // Edges-to-image and inpainting decode with the shipped autoencoder.
        guard (try? ShippedModels.autoencoder) != nil else { return }
        for kind in [ExperimentKind.edgesToImage, .inpainting] {
            let name = try checkpoint(kind, conditionDimension: EfficientNetLite.featureDimension, dimension: 64, in: directory)
            let result = try CLI.run(["sample", "--checkpoint", name, "--image", "query.png", "--count", "3",
                                      "--output", "\(name).npy"], in: directory)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(try NPY.readFloat32(directory.appendingPathComponent("\(name).npy")).shape, [3, 1, 28, 28])
        }
    }
}
