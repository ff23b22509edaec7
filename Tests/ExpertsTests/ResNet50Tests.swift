import Experts
import Formats
import Foundation
import TensorCore
import XCTest

/// ResNet-50 against torchvision 0.28.0 (torch 2.13) on random weights at a
/// reduced width (stem 4, stages of 16…128 channels, 10 classes) with random
/// BatchNorm statistics (scripts/fixtures/make_resnet50.py): avgpool
/// features and logits within 1e-4.
final class ResNet50Tests: XCTestCase {
    static let tolerance: Float = 1e-4

    func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
    }

    func model() throws -> ResNet50 {
        try ResNet50(checkpoint: TestAssets.fixture("resnet_tiny.pth"))
    }

    /// Pixels `[N, H, W, 3]` of a uint8 fixture as normalised NCHW input.
    func input(_ name: String) throws -> Tensor {
        let array = try NPY.read(TestAssets.fixture(name))
        guard case .uint8(let bytes) = array.storage else { throw XCTSkip("\(name) is not uint8") }
        let (N, H, W) = (array.shape[0], array.shape[1], array.shape[2])
        var x = Tensor(zeros: [N, 3, H, W])
        for n in 0..<N {
            for p in 0..<(H * W) {
                for c in 0..<3 {
                    x.scalars[(n * 3 + c) * H * W + p] = PixelNormalization.imageNet.apply(Float(bytes[(n * H * W + p) * 3 + c]), channel: c)
                }
            }
        }
        return x
    }

    func testParityWithTorchvision() throws {
        let model = try model()
        XCTAssertEqual([model.featureDimension, model.classCount], [128, 10])
        let x = try input("resnet_images.npy")
        XCTAssertEqual(x.shape, [2, 3, 64, 64])
        let referenceFeatures = try NPY.readFloat32(TestAssets.fixture("resnet_features.npy"))
        let referenceLogits = try NPY.readFloat32(TestAssets.fixture("resnet_logits.npy"))
        let features = try model.features(x)
        XCTAssertEqual(features.shape, referenceFeatures.shape)
        XCTAssertLessThanOrEqual(maxDifference(features, referenceFeatures), Self.tolerance)
        let logits = try model.logits(x)
        XCTAssertEqual(logits.shape, referenceLogits.shape)
        XCTAssertLessThanOrEqual(maxDifference(logits, referenceLogits), Self.tolerance)
        // Features spread over several values (random BatchNorm statistics are not trivial).
        XCTAssertGreaterThan(referenceFeatures.scalars.max()! - referenceFeatures.scalars.min()!, 1)

        // Odd sizes (57×71) exercise the stem's, max pool's and stride-2 padding.
        let odd = try model.logits(try input("resnet_odd_images.npy"))
        XCTAssertLessThanOrEqual(maxDifference(odd, try NPY.readFloat32(TestAssets.fixture("resnet_odd_logits.npy"))),
                                 Self.tolerance)

        // One image per pass, and one image alone, give the same features.
        model.imagesPerPass = 1
        XCTAssertLessThanOrEqual(maxDifference(try model.features(x), features), 1e-5)
        XCTAssertLessThanOrEqual(maxDifference(try model.features(x.rows(1..<2)), features.rows(1..<2)), 1e-5)
        XCTAssertEqual(try model.features(Tensor(zeros: [0, 3, 64, 64])).shape, [0, 128])
    }

    func testDamagedWeightsAreRefusedNamingTheKey() throws {
        assertBadAsset(file: "resnet_missing_key.pth", mentions: ["layer3.4.bn2.running_var", "missing"]) {
            _ = try ResNet50(checkpoint: TestAssets.fixture("resnet_missing_key.pth"))
        }
        assertBadAsset(file: "resnet_bad_shape.pth", mentions: ["layer2.1.conv2.weight", "[8, 8, 3, 1]", "[8, 8, 3, 3]"]) {
            _ = try ResNet50(checkpoint: TestAssets.fixture("resnet_bad_shape.pth"))
        }
        // Another network's checkpoint, a file that is no checkpoint, and no file at all.
        let other = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FormatsTests/Fixtures/checkpoint_zip.pth")
        assertBadAsset(file: "checkpoint_zip.pth", mentions: ["conv1.weight", "missing"]) {
            _ = try ResNet50(checkpoint: other)
        }
        assertBadAsset(file: "resnet_images.npy", mentions: ["not a usable PyTorch checkpoint"]) {
            _ = try ResNet50(checkpoint: TestAssets.fixture("resnet_images.npy"))
        }
        assertBadAsset(file: "absent.pth", mentions: ["no such file"]) {
            _ = try ResNet50(checkpoint: TestAssets.fixture("absent.pth"))
        }
    }

    func testBadInputIsClear() throws {
        let model = try model()
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
        }
        XCTAssertTrue(message { _ = try model.features(Tensor(zeros: [1, 4, 32, 32])) }.contains("4 channels"))
        XCTAssertTrue(message { _ = try model.features(Tensor(zeros: [3, 32, 32])) }.contains("[N, 3, H, W]"))
        var x = Tensor(zeros: [1, 3, 32, 32])
        x.scalars[5] = .nan
        XCTAssertTrue(message { _ = try model.logits(x) }.contains("NaN or infinite"))
    }
}
