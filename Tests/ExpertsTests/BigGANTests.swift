import Experts
import Formats
import Foundation
import TensorCore
import XCTest

/// BigGAN against pytorch-pretrained-biggan 0.1.1's own model code on random
/// weights at reduced width (channel_width 4, z 16, 10 classes, 11 truncation
/// steps; the 128×128 layer list), scripts/fixtures/make_biggan.py: images
/// within 1e-4 at truncation 0.3 (which reads the statistics of 0.2, see
/// TruncatedStatistics) and 0.73.
final class BigGANTests: XCTestCase {
    static let tolerance: Float = 1e-4
    var directory: URL { TestAssets.fixture("biggan") }

    func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
    }

    func testParityWithThePackage() throws {
        let model = try BigGAN(weights: directory)
        XCTAssertEqual([model.latentDimension, model.classCount, model.imageSize], [16, 10, 128])
        let z = try NPY.readFloat32(directory.appendingPathComponent("biggan_z.npy"))
        let classes = try NPY.readFloat32(directory.appendingPathComponent("biggan_classes.npy"))
        for (index, truncation) in [(0, 0.3), (1, 0.73)] {
            let reference = try NPY.readFloat32(directory.appendingPathComponent("biggan_images_\(truncation).npy"))
            let zt = Tensor(shape: [1, 16], scalars: z.rows(index..<(index + 1)).scalars.map { $0 * Float(truncation) })
            let images = try model.generate(zt, classes: classes.rows(index..<(index + 1)), truncation: truncation)
            XCTAssertEqual(images.shape, [1, 3, 128, 128])
            XCTAssertLessThanOrEqual(maxDifference(images, reference), Self.tolerance, "truncation \(truncation)")
        }
        // A batch gives each image what it gives alone.
        let both = try model.generate(z, classes: classes, truncation: 0.5)
        let second = try model.generate(z.rows(1..<2), classes: classes.rows(1..<2), truncation: 0.5)
        XCTAssertEqual(Array(both.scalars[(3 * 128 * 128)...]), second.scalars)
    }

    /// Decoding the condition vector [z, embeddings · class] given directly is
    /// decoding (z, class): the path text → BigGAN's Λ takes.
    func testConditionVectorsDecodeAsTheirClasses() throws {
        let model = try BigGAN(weights: directory)
        let z = try NPY.readFloat32(directory.appendingPathComponent("biggan_z.npy"))
        let classes = try NPY.readFloat32(directory.appendingPathComponent("biggan_classes.npy"))
        let e = try model.classEmbeddings(classes)
        XCTAssertEqual(e.shape, [2, 16])
        var rows: [Float] = []
        for n in 0..<2 {
            rows += z.scalars[(n * 16)..<((n + 1) * 16)]
            rows += e.scalars[(n * 16)..<((n + 1) * 16)]
        }
        let conditions = Tensor(shape: [2, 32], scalars: rows)
        let direct = try model.generate(conditions: conditions, truncation: 0.5)
        let byClass = try model.generate(z, classes: classes, truncation: 0.5)
        XCTAssertLessThanOrEqual(maxDifference(direct, byClass), 1e-6)
        let decoder = try BigGANLatentDecoder(model: model, truncation: 0.5, description: ExpertDescription(
            name: "biggan", role: .imageDecoder, dimension: nil, assets: [], summary: "BigGAN"))
        XCTAssertEqual(decoder.latentDimension, 32)
        XCTAssertEqual(decoder.expertDescription.imageShape, [3, 128, 128])
        XCTAssertEqual(try decoder.decode(conditions).scalars, direct.scalars)
        XCTAssertThrowsError(try model.generate(conditions: z, truncation: 0.5))
        XCTAssertThrowsError(try BigGANLatentDecoder(model: model, truncation: 0, description: decoder.expertDescription))
    }

    func testBadWeightsAndInputsAreRefused() throws {
        let model = try BigGAN(weights: directory)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
        }
        let one = try model.oneHot([3])
        XCTAssertTrue(message { _ = try model.generate(Tensor(zeros: [1, 128]), classes: one, truncation: 0.5) }.contains("[N, 16]"))
        XCTAssertTrue(message { _ = try model.generate(Tensor(zeros: [1, 16]), classes: one, truncation: 1.5) }.contains("(0, 1]"))
        XCTAssertTrue(message { _ = try model.oneHot([10]) }.contains("0…9"))
        // The ResNet checkpoint is no BigGAN; a config.json that is missing or wrong is named.
        assertBadAsset(file: "resnet_tiny.pth", mentions: ["embeddings.weight", "missing"]) {
            _ = try BigGAN(checkpoint: TestAssets.fixture("resnet_tiny.pth"),
                           configuration: self.directory.appendingPathComponent("config.json"))
        }
        assertBadAsset(file: "config.json", mentions: ["no such file"]) {
            _ = try BigGAN(weights: TestAssets.fixture("resnet_tiny.pth"))
        }
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("biggan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        var config = try String(contentsOf: directory.appendingPathComponent("config.json"), encoding: .utf8)
        config = config.replacingOccurrences(of: "\"output_dim\": 128", with: "\"output_dim\": 256")
        try config.write(to: temporary.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: directory.appendingPathComponent("pytorch_model.bin"),
                                         to: temporary.appendingPathComponent("pytorch_model.bin"))
        assertBadAsset(file: "config.json", mentions: ["output_dim", "256", "128-pixel"]) {
            _ = try BigGAN(weights: temporary)
        }
        try "{\"output_dim\": 128}".write(to: temporary.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        assertBadAsset(file: "config.json", mentions: ["z_dim"]) { _ = try BigGAN(weights: temporary) }
    }
}
