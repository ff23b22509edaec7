import Experts
import Formats
import Foundation
import TensorCore
import XCTest

/// `encode --expert resnet50` and `decode --expert biggan`: their weights
/// files are required and read as given.
final class ImageExpertCommandTests: XCTestCase {
    var directory: URL!
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ExpertsTests/Fixtures")

    override func setUpWithError() throws {
        try CLI.requireExecutable()
        directory = temporaryDirectory(name)
    }

    func testResNetNeedsItsWeights() throws {
        let png = fixtures.appendingPathComponent("gray.png").path
        assertFails(try CLI.run(["encode", "--expert", "resnet50", "--input", png, "--output", "f.npy"], in: directory),
                    mentioning: ["resnet50", "--weights", "state_dict", "ResNet50_Weights", "Geirhos"])
        assertFails(try CLI.run(["encode", "--expert", "resnet50", "--weights", "absent.pth", "--input", png,
                                 "--output", "f.npy"], in: directory),
                    mentioning: ["absent.pth", "no such file"])
        assertFails(try CLI.run(["encode", "--expert", "resnet50", "--weights",
                                 fixtures.appendingPathComponent("resnet_bad_shape.pth").path, "--input", png,
                                 "--output", "f.npy"], in: directory),
                    mentioning: ["resnet_bad_shape.pth", "layer2.1.conv2.weight"])
    }

    func testResNetEncodesWithTheGivenWeights() throws {
        let png = fixtures.appendingPathComponent("gray.png").path
        let weights = fixtures.appendingPathComponent("resnet_tiny.pth").path
        for (layer, width) in [("avgpool", 128), ("logits", 10)] {
            let result = try CLI.run(["encode", "--expert", "resnet50", "--weights", weights, "--input", png, "--input", png,
                                      "--output", "\(layer).npy", "--layer", layer], in: directory)
            XCTAssertEqual(result.status, 0, result.stderr)
            let z = try NPY.readFloat32(directory.appendingPathComponent("\(layer).npy"))
            XCTAssertEqual(z.shape, [2, width])
            XCTAssertTrue(z.isFinite)
            XCTAssertEqual(Array(z.scalars[0..<width]), Array(z.scalars[width..<(2 * width)]))
        }
        // The same image as the library sees it: read, resized to 224×224, ImageNet-normalised.
        let model = try ResNet50(checkpoint: URL(fileURLWithPath: weights))
        let pixels = try ImageInput.load([png])
        let expected = try model.features(ImageInput.modelInput(pixels, normalization: .imageNet))
        let z = try NPY.readFloat32(directory.appendingPathComponent("avgpool.npy"))
        XCTAssertLessThanOrEqual(zip(expected.scalars, z.scalars).map { abs($0 - $1) }.max()!, 1e-5)
        assertFails(try CLI.run(["encode", "--expert", "resnet50", "--weights", weights, "--input", png, "--output", "f.npy",
                                 "--top", "2"], in: directory),
                    mentioning: ["--top", "1000 classes", "10"])
    }

    func testBigGANNeedsItsWeightsAndDecodesWithThem() throws {
        assertFails(try CLI.run(["decode", "--expert", "biggan", "--class", "3", "--output", "x.png"], in: directory),
                    mentioning: ["biggan", "--weights", "pytorch_model.bin", "config.json", "biggan-deep-128"])
        let model = fixtures.appendingPathComponent("biggan").path
        let drawn = try CLI.run(["decode", "--expert", "biggan", "--weights", model, "--class", "3", "--truncation", "0.5",
                                 "--random", "2", "--seed", "1", "--output", "x.npy"], in: directory)
        XCTAssertEqual(drawn.status, 0, drawn.stderr)
        let images = try NPY.readFloat32(directory.appendingPathComponent("x.npy"))
        XCTAssertEqual(images.shape, [2, 3, 128, 128])
        XCTAssertTrue(images.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        // --input z as given, one image by default with --random, and a PNG grid.
        let z = try NPY.readFloat32(fixtures.appendingPathComponent("biggan/biggan_z.npy"))
        try NPY.write(Tensor(shape: [1, 16], scalars: z.rows(0..<1).scalars.map { $0 * 0.3 }), to: directory.appendingPathComponent("z.npy"))
        let given = try CLI.run(["decode", "--expert", "biggan", "--weights", model, "--class", "3", "--truncation", "0.3",
                                 "--input", "z.npy", "--output", "y.npy"], in: directory)
        XCTAssertEqual(given.status, 0, given.stderr)
        let reference = try NPY.readFloat32(fixtures.appendingPathComponent("biggan/biggan_images_0.3.npy"))
        let decoded = try NPY.readFloat32(directory.appendingPathComponent("y.npy"))
        XCTAssertLessThanOrEqual(zip(decoded.scalars, reference.scalars).map { abs($0 - $1) }.max()!, 1e-4)
        let grid = try CLI.run(["decode", "--expert", "biggan", "--weights", model, "--class", "1", "--output", "one.png"], in: directory)
        XCTAssertEqual(grid.status, 0, grid.stderr)
        XCTAssertEqual(try PNGImage.read(directory.appendingPathComponent("one.png")).width, 128 + 2 * 2)
        assertFails(try CLI.run(["decode", "--expert", "biggan", "--weights", model, "--class", "10", "--output", "x.png"],
                                in: directory), mentioning: ["--class 10", "0…9"])
        assertFails(try CLI.run(["decode", "--expert", "biggan", "--weights", model, "--class", "1", "--truncation", "0",
                                 "--output", "x.png"], in: directory), mentioning: ["--truncation", "(0, 1]"])
        assertFails(try CLI.run(["decode", "--expert", "biggan", "--weights", model, "--output", "x.png"], in: directory),
                    mentioning: ["--class"])
        assertFails(try CLI.run(["decode", "--expert", "biggan", "--weights", model, "--class", "1", "--random", "100000000",
                                 "--output", "x.npy"], in: directory), mentioning: ["--random"])
    }
}
