import Experts
import Formats
import Foundation
import TensorCore
import XCTest

/// The DCGAN face generator against PyTorch on fixed latents
/// (scripts/fixtures/make_dcgan_faces.py).
final class FaceGeneratorTests: XCTestCase {
    func testParityWithPyTorch() throws {
        let generator = try FaceGenerator(directory: try TestAssets.directory("dcgan-faces"))
        let z = try NPY.readFloat32(TestAssets.fixture("dcgan_faces_z.npy"))
        let reference = try NPY.readFloat32(TestAssets.fixture("dcgan_faces_images.npy"))
        let images = try generator.generate(z)
        XCTAssertEqual(images.shape, [2, 3, 64, 64])
        let worst = zip(images.scalars, reference.scalars).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        XCTAssertLessThan(worst, 1e-4, "max |ours − PyTorch|")
        // Batching does not change a sample.
        let single = try generator.generate(z.rows(1..<2))
        let second = Array(images.scalars[(3 * 64 * 64)...])
        XCTAssertLessThan(zip(single.scalars, second).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }, 1e-5)
        XCTAssertEqual(try generator.generate(Tensor(zeros: [0, 100])).shape, [0, 3, 64, 64])
    }

    /// A batch large enough to be split over the cores (here 16 + 4 images) gives each
    /// image what it gets alone.
    func testASplitBatchMatchesSingleImages() throws {
        let generator = try FaceGenerator(directory: try TestAssets.directory("dcgan-faces"))
        var rng = SeededGenerator(seed: 7)
        let z = Tensor(shape: [20, 100], scalars: (0..<2000).map { _ in Float.random(in: -2...2, using: &rng) })
        let batch = try generator.generate(z)
        let plane = 3 * 64 * 64
        for row in [0, 7, 15, 16, 19] {
            let single = try generator.generate(z.rows(row..<(row + 1)))
            let worst = zip(single.scalars, batch.scalars[(row * plane)..<((row + 1) * plane)])
                .reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            XCTAssertLessThan(worst, 1e-5, "image \(row) of the batch")
        }
    }

    /// The multiply-adds the bench counts: Σ Cin·Cout·k²·Hin·Win, written out layer by layer.
    func testMultiplyAddsPerImageFollowTheLayers() {
        let layers: [(cin: Int, cout: Int, side: Int)] = [(100, 512, 1), (512, 256, 4), (256, 128, 8), (128, 64, 16), (64, 3, 32)]
        XCTAssertEqual(FaceGenerator.multiplyAddsPerImage, layers.reduce(0) { $0 + $1.cin * $1.cout * 16 * $1.side * $1.side })
    }

    func testBadInputAndBadCheckpointsAreClear() throws {
        let generator = try FaceGenerator(directory: try TestAssets.directory("dcgan-faces"))
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
        }
        XCTAssertTrue(message { _ = try generator.generate(Tensor(zeros: [2, 64])) }.contains("[N, 100]"))
        var z = Tensor(zeros: [1, 100])
        z[0, 5] = .nan
        XCTAssertTrue(message { _ = try generator.generate(z) }.contains("NaN"))
        // A PyTorch checkpoint of another shape (the Formats fixture has main.0.weight [2, 3, 2, 2]).
        let other = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FormatsTests/Fixtures/checkpoint_zip.pth")
        let text = message { _ = try FaceGenerator(checkpoint: other) }
        XCTAssertTrue(text.contains("main.0.weight") && text.contains("expected [100, 512, 4, 4]"), text)
    }
}
