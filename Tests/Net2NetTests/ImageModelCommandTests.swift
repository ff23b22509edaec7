import XCTest
import Datasets
import Experts
import Formats
import TensorCore
@testable import Net2Net

/// `encode`/`decode --expert autoencoder` and the training commands' argument errors.
final class ImageModelCommandTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: CLI.executable.path) else {
            XCTFail("the net2net executable is not built at \(CLI.executable.path); run scripts/test, which builds it first")
            throw XCTSkip("no executable")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("image-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func testDecodeThenEncodeWithTheShippedAutoencoder() throws {
        let decoded = try CLI.run(["decode", "--expert", "autoencoder", "--random", "5", "--seed", "3", "--output", "x.npy"], in: directory)
        XCTAssertEqual(decoded.status, 0, decoded.stderr)
        let images = try NPY.readFloat32(directory.appendingPathComponent("x.npy"))
        XCTAssertEqual(images.shape, [5, 1, 28, 28])
        XCTAssertTrue(images.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        let encoded = try CLI.run(["encode", "--expert", "autoencoder", "--input", "x.npy", "--output", "z.npy"], in: directory)
        XCTAssertEqual(encoded.status, 0, encoded.stderr)
        let z = try NPY.readFloat32(directory.appendingPathComponent("z.npy"))
        XCTAssertEqual(z.shape, [5, 64])
        // Encoding then decoding again lands near the same images (the autoencoder is a good one).
        let again = try CLI.run(["decode", "--expert", "autoencoder", "--input", "z.npy", "--output", "y.npy"], in: directory)
        XCTAssertEqual(again.status, 0, again.stderr)
        let y = try NPY.readFloat32(directory.appendingPathComponent("y.npy"))
        var mse: Float = 0
        for i in 0..<y.count { mse += (y.scalars[i] - images.scalars[i]) * (y.scalars[i] - images.scalars[i]) / Float(y.count) }
        XCTAssertLessThan(mse, 0.05)
        let grid = try CLI.run(["decode", "--expert", "autoencoder", "--input", "z.npy", "--output", "g.png"], in: directory)
        XCTAssertEqual(grid.status, 0, grid.stderr)
        XCTAssertEqual(try PNGImage.read(directory.appendingPathComponent("g.png")).height, 28 + 4)
    }

    /// `encode --dataset` gives the library's posterior means of the
    /// autoencoder's own images; a τ trained on them without a condition is
    /// a learned prior that `autoencoder evaluate` measures. The shipped
    /// learned prior's decoded samples are much closer to the test images
    /// than N(0, I)'s (FID-F ≤ 12 against about 28).
    func testLearnedPriorFromTheDatasetLatents() throws {
        let encoded = try CLI.run(["encode", "--expert", "autoencoder", "--dataset", "test", "--output", "z.npy"], in: directory)
        XCTAssertEqual(encoded.status, 0, encoded.stderr)
        let z = try NPY.readFloat32(directory.appendingPathComponent("z.npy"))
        XCTAssertEqual(z.shape, [10_500, 64])
        let test = try ImageDataset.fashionAndDigits(.test, store: AssetStore())
        let picks = [0, 4_321, 10_499]
        let expected = try ConvolutionalVAE.load(ShippedModels.autoencoder).model.encode(test.subset(picks).images)
        for (k, row) in picks.enumerated() {
            for j in 0..<64 { XCTAssertEqual(z[row, j], expected[k, j], accuracy: 1e-4, "row \(row), column \(j)") }
        }
        try NPY.write(z.rows(0..<2_000), to: directory.appendingPathComponent("z2k.npy"))
        let small = ["--set", "hidden_dim=16", "--set", "n_flows=2", "--set", "steps=20", "--set", "batch_size=64"]
        let trained = try CLI.run(["train", "--target", "z2k.npy", "--output-dir", "prior"] + small, in: directory)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stderr.contains("2000 targets of 64-d, no condition"), trained.stderr)

        let shipped = try CLI.run(["autoencoder", "evaluate", "--learned-prior", "--json"], in: directory)
        XCTAssertEqual(shipped.status, 0, shipped.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(shipped.stdout.utf8)) as! [String: Any]
        let learned = try XCTUnwrap(report["learned_prior_sample_fid_f"] as? Double)
        let standard = try XCTUnwrap(report["prior_sample_fid_f"] as? Double)
        XCTAssertLessThanOrEqual(learned, 12)
        XCTAssertLessThan(learned, standard / 2)
        XCTAssertGreaterThan(try XCTUnwrap(report["learned_prior_sample_confidence"] as? Double),
                             try XCTUnwrap(report["prior_sample_confidence"] as? Double))
        // Per class: the fashion classes have 1000 test images each, so their mean is the fashion accuracy;
        // reconstructions lose detail, so they are classified right less often on the whole.
        let perClass = try XCTUnwrap(report["class_accuracy"] as? [Double])
        let reconstructed = try XCTUnwrap(report["reconstruction_class_accuracy"] as? [Double])
        XCTAssertEqual(perClass.count, 20)
        XCTAssertEqual(reconstructed.count, 20)
        XCTAssertEqual(perClass.prefix(10).reduce(0, +) / 10, try XCTUnwrap(report["fashion_accuracy"] as? Double), accuracy: 1e-9)
        XCTAssertTrue((perClass + reconstructed).allSatisfy { (0...1).contains($0) })
        XCTAssertLessThan(reconstructed.prefix(10).reduce(0, +), perClass.prefix(10).reduce(0, +))

        // decode --random draws from the learned prior with --learned-prior or --prior.
        let fromPrior = try CLI.run(["decode", "--expert", "autoencoder", "--random", "6", "--learned-prior", "--output", "p.npy"],
                                    in: directory)
        XCTAssertEqual(fromPrior.status, 0, fromPrior.stderr)
        let plain = try CLI.run(["decode", "--expert", "autoencoder", "--random", "6", "--output", "n.npy"], in: directory)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let priorImages = try NPY.readFloat32(directory.appendingPathComponent("p.npy"))
        XCTAssertEqual(priorImages.shape, [6, 1, 28, 28])
        XCTAssertNotEqual(priorImages, try NPY.readFloat32(directory.appendingPathComponent("n.npy")))
        let ownPrior = try CLI.run(["decode", "--expert", "autoencoder", "--random", "2", "--prior", "prior", "--output", "o.npy"],
                                   in: directory)
        XCTAssertEqual(ownPrior.status, 0, ownPrior.stderr)

        // A conditional τ is not a prior; neither is one of another width.
        let firstColumns = Tensor(shape: [2_000, 3], scalars: (0..<2_000).flatMap { r in (0..<3).map { z[r, $0] } })
        try NPY.write(firstColumns, to: directory.appendingPathComponent("c.npy"))
        let conditional = try CLI.run(["train", "--condition", "c.npy", "--target", "z2k.npy", "--output-dir", "conditional"] + small,
                                      in: directory)
        XCTAssertEqual(conditional.status, 0, conditional.stderr)
        let refused = try CLI.run(["autoencoder", "evaluate", "--prior", "conditional"], in: directory)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("conditional") && refused.stderr.contains("not a prior"), refused.stderr)
        let narrow = try CLI.run(["train", "--target", "c.npy", "--output-dir", "narrow"] + small, in: directory)
        XCTAssertEqual(narrow.status, 0, narrow.stderr)
        let wrongWidth = try CLI.run(["autoencoder", "evaluate", "--prior", "narrow"], in: directory)
        XCTAssertNotEqual(wrongWidth.status, 0)
        XCTAssertTrue(wrongWidth.stderr.contains("models 3-d data; the autoencoder's latent is 64-d"), wrongWidth.stderr)
        let both = try CLI.run(["autoencoder", "evaluate", "--prior", "prior", "--learned-prior"], in: directory)
        XCTAssertNotEqual(both.status, 0)
        // The shipped prior belongs to the shipped autoencoder, whichever command is given another one.
        let autoencoderPath = try ShippedModels.autoencoder.path
        for command in [["autoencoder", "evaluate", "--autoencoder", autoencoderPath, "--learned-prior"],
                        ["decode", "--expert", "autoencoder", "--checkpoint", autoencoderPath, "--random", "2",
                         "--learned-prior", "--output", "o.npy"]] {
            let refused = try CLI.run(command, in: directory)
            XCTAssertNotEqual(refused.status, 0)
            XCTAssertTrue(refused.stderr.contains("--learned-prior belongs to the shipped autoencoder"), refused.stderr)
        }
        let conditionalDecode = try CLI.run(["decode", "--expert", "autoencoder", "--random", "2", "--prior", "conditional",
                                             "--output", "o.npy"], in: directory)
        XCTAssertNotEqual(conditionalDecode.status, 0)
        XCTAssertTrue(conditionalDecode.stderr.contains("not a prior"), conditionalDecode.stderr)
        let priorWithInput = try CLI.run(["decode", "--expert", "autoencoder", "--input", "z2k.npy", "--learned-prior",
                                          "--output", "o.npy"], in: directory)
        XCTAssertNotEqual(priorWithInput.status, 0)
        XCTAssertTrue(priorWithInput.stderr.contains("--input gives them itself"), priorWithInput.stderr)
        let wrongExpert = try CLI.run(["encode", "--expert", "minilm", "--dataset", "test", "--output", "x.npy"], in: directory)
        XCTAssertNotEqual(wrongExpert.status, 0)
        XCTAssertTrue(wrongExpert.stderr.contains("--dataset is for --expert autoencoder"), wrongExpert.stderr)
        let twice = try CLI.run(["encode", "--expert", "autoencoder", "--dataset", "test", "--input", "x.npy", "--output", "x.npy"],
                                in: directory)
        XCTAssertNotEqual(twice.status, 0)
        XCTAssertTrue(twice.stderr.contains("either --input or --dataset"), twice.stderr)
    }

    func testBadInputsAreClear() throws {
        try NPY.write(Tensor(zeros: [2, 100]), to: directory.appendingPathComponent("wide.npy"))
        let wrongWidth = try CLI.run(["decode", "--expert", "autoencoder", "--input", "wide.npy", "--output", "x.npy"], in: directory)
        XCTAssertNotEqual(wrongWidth.status, 0)
        XCTAssertTrue(wrongWidth.stderr.contains("wide.npy: z must be [N, 64] for autoencoder"), wrongWidth.stderr)
        try Data("not a checkpoint".utf8).write(to: directory.appendingPathComponent("bad.safetensors"))
        let badCheckpoint = try CLI.run(["decode", "--expert", "autoencoder", "--checkpoint", "bad.safetensors",
                                         "--random", "2", "--output", "x.npy"], in: directory)
        XCTAssertNotEqual(badCheckpoint.status, 0)
        XCTAssertTrue(badCheckpoint.stderr.contains("bad.safetensors"), badCheckpoint.stderr)
        try Data("text".utf8).write(to: directory.appendingPathComponent("notes.png"))
        let notPNG = try CLI.run(["encode", "--expert", "autoencoder", "--input", "notes.png", "--output", "z.npy"], in: directory)
        XCTAssertNotEqual(notPNG.status, 0)
        XCTAssertTrue(notPNG.stderr.contains("notes.png"), notPNG.stderr)
        let unknownKey = try CLI.run(["autoencoder", "train", "--set", "latnet_dim=3", "--output-dir", "run"], in: directory)
        XCTAssertNotEqual(unknownKey.status, 0)
        XCTAssertTrue(unknownKey.stderr.contains("unknown key 'latnet_dim'"), unknownKey.stderr)
        let noOutput = try CLI.run(["classifier", "train", "--set", "epochs=1"], in: directory)
        XCTAssertNotEqual(noOutput.status, 0)
        XCTAssertTrue(noOutput.stderr.contains("--output-dir"), noOutput.stderr)
    }
}

/// The experiment commands end to end at a tiny size.
final class ExperimentCommandTests: XCTestCase {
    func testTrainSampleAndEvaluateTextToImage() throws {
        guard FileManager.default.isExecutableFile(atPath: CLI.executable.path) else {
            XCTFail("the net2net executable is not built at \(CLI.executable.path)")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("experiment-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let recipe = ShippedModels.recipe("text-to-image.yaml").path
        let trained = try CLI.run(["experiment", "train", recipe, "--output-dir", "run", "--set", "train_images=300",
                                   "--set", "steps=6", "--set", "hidden_dim=16", "--set", "n_flows=2",
                                   "--set", "batch_size=32", "--set", "log_every=3", "--set", "validate_every=3",
                                   "--set", "checkpoint_every=3"], in: directory)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        for file in ["last/flow.safetensors", "experiment.json", "samples.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/\(file)").path), file)
        }
        let again = try CLI.run(["experiment", "train", recipe, "--output-dir", "run"], in: directory)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("already holds a checkpoint"), again.stderr)

        let sampled = try CLI.run(["sample", "--checkpoint", "run", "--text", "a pair of running shoes", "--count", "4",
                                   "--output", "s.npy"], in: directory)
        XCTAssertEqual(sampled.status, 0, sampled.stderr)
        let images = try NPY.readFloat32(directory.appendingPathComponent("s.npy"))
        XCTAssertEqual(images.shape, [4, 1, 28, 28])
        XCTAssertTrue(images.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        let wrongExpert = try CLI.run(["sample", "--checkpoint", "run", "--label", "sneaker", "--output", "s.npy"], in: directory)
        XCTAssertNotEqual(wrongExpert.status, 0)
        XCTAssertTrue(wrongExpert.stderr.contains("label-to-image"), wrongExpert.stderr)

        let evaluated = try CLI.run(["eval-experiment", recipe, "--checkpoint", "run", "--samples", "3", "--test-images", "200",
                                     "--json"], in: directory)
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])
        for key in ["held_out_nats_per_dim", "conditional_accuracy", "fid_f", "diversity", "prompt_accuracy",
                    "held_out_prompts", "paraphrases"] {
            XCTAssertNotNil(report[key], key)
        }
        // 200 test images; the recipe's balance_classes 0.5 gives the images of the subset's rarer classes (digits) more captions.
        let pairs = try XCTUnwrap(report["held_out_pairs"] as? Int)
        XCTAssertGreaterThan(pairs, 200)
        XCTAssertLessThan(pairs, 400)
        let paraphrases = try XCTUnwrap(report["paraphrases"] as? [String: Any])
        XCTAssertEqual(paraphrases["prompts"] as? Int, HeldOutPrompt.paraphrases.count)
        XCTAssertEqual((paraphrases["per_class"] as? [Any])?.count, 20)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/evaluation.json").path))

        // Where evaluation.json cannot be written (here a directory stands in its way; a read-only
        // install of the shipped models is the real case), the report is still printed, with a note.
        let saved = directory.appendingPathComponent("run/evaluation.json")
        try FileManager.default.removeItem(at: saved)
        try FileManager.default.createDirectory(at: saved.appendingPathComponent("in-the-way"), withIntermediateDirectories: true)
        let unsaved = try CLI.run(["eval-experiment", recipe, "--checkpoint", "run", "--samples", "3", "--test-images", "200",
                                   "--json"], in: directory)
        XCTAssertEqual(unsaved.status, 0, unsaved.stderr)
        XCTAssertTrue(unsaved.stderr.contains("not saved: ") && unsaved.stderr.contains("evaluation.json"), unsaved.stderr)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(unsaved.stdout.utf8)) as? [String: Any])?["held_out_pairs"] as? Int, pairs)
    }
}
