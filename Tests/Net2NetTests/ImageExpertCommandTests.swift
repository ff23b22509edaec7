import Experts
import Formats
import Foundation
import TensorCore
import XCTest

/// `encode --expert resnet50`: its weights file is required and read as given.
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
}
