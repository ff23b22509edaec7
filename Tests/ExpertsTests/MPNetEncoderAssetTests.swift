import Experts
import Formats
import Foundation
import TensorCore
import XCTest

/// `MPNetEncoder` and `MPNetTextExpert` on tiny synthetic model folders:
/// loading, the errors for broken folders, and padding/packing invariance
/// (with the relative position bias) without the real model.
final class MPNetEncoderAssetTests: XCTestCase {
    // hidden 16, 2 layers, 2 heads, FFN 32, 12 positions (10 tokens), vocab 20, 8 buckets.
    let config = """
        {"model_type": "mpnet", "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
         "intermediate_size": 32, "max_position_embeddings": 12, "vocab_size": 20, "layer_norm_eps": 1e-5,
         "hidden_act": "gelu", "relative_attention_num_buckets": 8, "pad_token_id": 1}
        """

    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mpnet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func writeModel(config text: String? = nil, override: [String: [Int]] = [:], omit: String? = nil) throws {
        try (text ?? config).write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        var shapes: [(String, [Int])] = [
            ("embeddings.word_embeddings.weight", [20, 16]), ("embeddings.position_embeddings.weight", [12, 16]),
            ("embeddings.LayerNorm.weight", [16]), ("embeddings.LayerNorm.bias", [16]),
            ("encoder.relative_attention_bias.weight", [8, 2]),
        ]
        for l in 0..<2 {
            let p = "encoder.layer.\(l)"
            for part in ["q", "k", "v", "o"] {
                shapes += [("\(p).attention.attn.\(part).weight", [16, 16]), ("\(p).attention.attn.\(part).bias", [16])]
            }
            shapes += [
                ("\(p).attention.LayerNorm.weight", [16]), ("\(p).attention.LayerNorm.bias", [16]),
                ("\(p).intermediate.dense.weight", [32, 16]), ("\(p).intermediate.dense.bias", [32]),
                ("\(p).output.dense.weight", [16, 32]), ("\(p).output.dense.bias", [16]),
                ("\(p).output.LayerNorm.weight", [16]), ("\(p).output.LayerNorm.bias", [16]),
            ]
        }
        var generator = SeededGenerator(seed: 11)
        var tensors: [(name: String, value: SafeTensorValue)] = []
        for (name, shape) in shapes where name != omit {
            let s = override[name] ?? shape
            let values = (0..<Tensor.elementCount(s)).map { _ in
                name.hasSuffix("LayerNorm.weight") ? 1 + 0.1 * generator.nextUniform() : generator.nextUniform() - 0.5
            }
            tensors.append((name, .float32(Tensor(shape: s, scalars: values))))
        }
        try SafeTensorsFile.write(tensors, to: folder.appendingPathComponent("model.safetensors"))
    }

    func testTinyModelLoadsAndBatchingDoesNotMatter() throws {
        try writeModel()
        let encoder = try MPNetEncoder(directory: folder)
        XCTAssertEqual(encoder.configuration.maximumTokens, 10)
        // The third sequence is the longest allowed; the fourth holds a literal <pad> (1).
        let ids: [[Int32]] = [[0, 5, 7, 2], [0, 2], [0, 3, 4, 5, 6, 9, 11, 13, 17, 2], [0, 19, 1, 8, 2], []]
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
        // The bias depends on the order: reversing the inner tokens changes the embedding.
        let reversed = encoder.embed(tokenIDs: [[0, 7, 5, 2]])
        XCTAssertGreaterThan(zip(reversed.scalars, together.rows(0..<1).scalars).map { abs($0 - $1) }.max()!, 1e-3)
    }

    func testMissingFilesAndTensors() throws {
        assertBadAsset(file: "config.json", mentions: ["missing"]) { _ = try MPNetEncoder(directory: folder) }
        try writeModel(omit: "encoder.relative_attention_bias.weight")
        assertBadAsset(file: "model.safetensors", mentions: ["encoder.relative_attention_bias.weight", "missing"]) {
            _ = try MPNetEncoder(directory: folder)
        }
        try writeModel(override: ["encoder.layer.1.attention.attn.o.weight": [16, 15]])
        assertBadAsset(file: "model.safetensors", mentions: ["encoder.layer.1.attention.attn.o.weight", "[16, 15]"]) {
            _ = try MPNetEncoder(directory: folder)
        }
    }

    func testBadConfig() throws {
        try writeModel(config: config.replacingOccurrences(of: "\"mpnet\"", with: "\"bert\""))
        assertBadAsset(file: "config.json", mentions: ["model_type", "bert"]) { _ = try MPNetEncoder(directory: folder) }
        try writeModel(config: config.replacingOccurrences(of: "\"num_attention_heads\": 2", with: "\"num_attention_heads\": 3"))
        assertBadAsset(file: "config.json", mentions: ["num_attention_heads"]) { _ = try MPNetEncoder(directory: folder) }
        try writeModel(config: "[1, 2]")
        assertBadAsset(file: "config.json", mentions: ["JSON object"]) { _ = try MPNetEncoder(directory: folder) }
    }

    func testTextExpertChecksTheVocabulary() throws {
        try writeModel()
        let vocabulary = folder.appendingPathComponent("vocab.txt")
        let specials = ["<s>", "<pad>", "</s>", "<unk>", "[UNK]", "<mask>"]
        try (specials + (0..<20).map { "w\($0)" }).joined(separator: "\n").write(to: vocabulary, atomically: true, encoding: .utf8)
        assertBadAsset(file: "vocab.txt", mentions: ["26 tokens", "20 embeddings"]) {
            _ = try MPNetTextExpert(directory: folder, maxLength: 10)
        }
        try ["<s>", "</s>", "<pad>", "[UNK]"].joined(separator: "\n").write(to: vocabulary, atomically: true, encoding: .utf8)
        assertBadAsset(file: "vocab.txt", mentions: ["<pad>", "id 2"]) { _ = try MPNetTextExpert(directory: folder, maxLength: 10) }
        try ["[CLS]", "[PAD]", "[SEP]", "[UNK]"].joined(separator: "\n").write(to: vocabulary, atomically: true, encoding: .utf8)
        assertBadAsset(file: "vocab.txt", mentions: ["<s>"]) { _ = try MPNetTextExpert(directory: folder, maxLength: 10) }
        try specials.joined(separator: "\n").write(to: vocabulary, atomically: true, encoding: .utf8)
        assertBadAsset(file: "config.json", mentions: ["hidden_size is 16", "768"]) {
            _ = try MPNetTextExpert(directory: folder, maxLength: 10)
        }
    }
}
