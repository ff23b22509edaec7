import Experts
import Formats
import Foundation
import TensorCore
import XCTest

/// `MiniLMEncoder` on tiny synthetic model folders: loading, the errors for
/// broken folders, and padding/packing invariance without the real model.
final class MiniLMEncoderAssetTests: XCTestCase {
    // hidden 16, 2 layers, 2 heads, FFN 32, 12 positions, vocab 20.
    let config = """
        {"hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32,
         "max_position_embeddings": 12, "vocab_size": 20, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
         "hidden_act": "gelu", "position_embedding_type": "absolute"}
        """

    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("minilm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Every tensor of the tiny model, deterministic, with `override` replacing shapes by name.
    func tensors(override: [String: [Int]] = [:], omit: String? = nil) -> [(name: String, value: SafeTensorValue)] {
        var shapes: [(String, [Int])] = [
            ("embeddings.word_embeddings.weight", [20, 16]), ("embeddings.position_embeddings.weight", [12, 16]),
            ("embeddings.token_type_embeddings.weight", [2, 16]),
            ("embeddings.LayerNorm.weight", [16]), ("embeddings.LayerNorm.bias", [16]),
        ]
        for l in 0..<2 {
            let p = "encoder.layer.\(l)"
            for part in ["query", "key", "value"] {
                shapes += [("\(p).attention.self.\(part).weight", [16, 16]), ("\(p).attention.self.\(part).bias", [16])]
            }
            shapes += [
                ("\(p).attention.output.dense.weight", [16, 16]), ("\(p).attention.output.dense.bias", [16]),
                ("\(p).attention.output.LayerNorm.weight", [16]), ("\(p).attention.output.LayerNorm.bias", [16]),
                ("\(p).intermediate.dense.weight", [32, 16]), ("\(p).intermediate.dense.bias", [32]),
                ("\(p).output.dense.weight", [16, 32]), ("\(p).output.dense.bias", [16]),
                ("\(p).output.LayerNorm.weight", [16]), ("\(p).output.LayerNorm.bias", [16]),
            ]
        }
        var generator = SeededGenerator(seed: 7)
        var result: [(name: String, value: SafeTensorValue)] = [
            ("embeddings.position_ids", .int64((0..<12).map(Int64.init), shape: [1, 12])),
        ]
        for (name, shape) in shapes where name != omit {
            let s = override[name] ?? shape
            let values = (0..<Tensor.elementCount(s)).map { _ in
                name.hasSuffix("LayerNorm.weight") ? 1 + 0.1 * generator.nextUniform() : 0.5 * (generator.nextUniform() - 0.5)
            }
            result.append((name, .float32(Tensor(shape: s, scalars: values))))
        }
        return result
    }

    func writeModel(override: [String: [Int]] = [:], omit: String? = nil) throws {
        try config.write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        try SafeTensorsFile.write(tensors(override: override, omit: omit),
                                  to: folder.appendingPathComponent("model.safetensors"))
    }

    func assertBadAsset(file: String, mentions words: [String], line: UInt = #line) {
        ExpertsTests.assertBadAsset(file: file, mentions: words, line: line) { _ = try MiniLMEncoder(directory: folder) }
    }

    func testTinyModelLoadsAndBatchingDoesNotMatter() throws {
        try writeModel()
        let encoder = try MiniLMEncoder(directory: folder)
        let ids: [[Int32]] = [[1, 5, 7, 2], [1, 2], [1, 3, 4, 5, 6, 9, 11, 13, 2], [1, 19, 2], []]
        let together = encoder.embed(tokenIDs: ids)
        XCTAssertEqual(together.shape, [5, 16])
        XCTAssertTrue(together.isFinite)
        encoder.padsBatches = true
        let padded = encoder.embed(tokenIDs: ids)
        for (i, sequence) in ids.enumerated() {
            let single = encoder.embed(tokenIDs: [sequence])
            for j in 0..<16 {
                XCTAssertEqual(single[0, j], together[i, j], accuracy: 1e-5)
                XCTAssertEqual(padded[i, j], together[i, j], accuracy: 1e-5)
            }
        }
        XCTAssertEqual(together.rows(4..<5).scalars, [Float](repeating: 0, count: 16), "empty sequence → zero row")
    }

    func testMissingFiles() throws {
        assertBadAsset(file: "config.json", mentions: ["missing"])
        try config.write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        assertBadAsset(file: "model.safetensors", mentions: ["missing"])
    }

    func testTruncatedSafeTensors() throws {
        try writeModel()
        let url = folder.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: url)
        try data.prefix(data.count - 100).write(to: url)
        assertBadAsset(file: "model.safetensors", mentions: ["safetensors"])
        try data.prefix(5).write(to: url)
        assertBadAsset(file: "model.safetensors", mentions: ["safetensors"])
    }

    func testWrongShapeAndMissingTensor() throws {
        try writeModel(override: ["encoder.layer.1.intermediate.dense.weight": [32, 15]])
        assertBadAsset(file: "model.safetensors",
                       mentions: ["encoder.layer.1.intermediate.dense.weight", "[32, 15]", "[32, 16]"])
        try writeModel(omit: "encoder.layer.0.attention.self.key.bias")
        assertBadAsset(file: "model.safetensors", mentions: ["encoder.layer.0.attention.self.key.bias", "missing"])
    }

    func testBadConfig() throws {
        try writeModel()
        try "{\"hidden_size\": 16}".write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        assertBadAsset(file: "config.json", mentions: ["num_hidden_layers"])
        try "not json".write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        assertBadAsset(file: "config.json", mentions: ["JSON"])
    }
}
