import Experts
import Formats
import Foundation
import TensorCore
import XCTest

/// Text in, embedding out: our tokenizer + encoder against
/// sentence-transformers' embeddings of the same sentences
/// (scripts/fixtures/make_minilm_embeddings.py).
final class TextExpertTests: XCTestCase {
    struct Fixture: Decodable {
        let sentences: [String]
        let token_ids: [[Int32]]
    }

    func testTextToEmbeddingParityWithSentenceTransformers() throws {
        let expert = try TextExpert(directory: try TestAssets.minilmDirectory())
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: TestAssets.fixture("minilm_embeddings.json")))
        let reference = try NPY.readFloat32(TestAssets.fixture("minilm_embeddings.npy"))
        XCTAssertGreaterThanOrEqual(fixture.sentences.count, 50)
        for (sentence, ids) in zip(fixture.sentences, fixture.token_ids) {
            XCTAssertEqual(expert.tokenizer.encode(sentence), ids, "token ids of \(sentence.debugDescription)")
        }
        let ours = expert.embed(fixture.sentences)
        XCTAssertEqual(ours.shape, reference.shape)
        let worst = zip(ours.scalars, reference.scalars).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        XCTAssertLessThan(worst, 1e-4, "max |ours − sentence-transformers|")
        XCTAssertEqual(expert.embed([]).shape, [0, TextExpert.dimension])
    }

    func testLongInputsAreTruncatedNotRejected() throws {
        let expert = try TextExpert(directory: try TestAssets.minilmDirectory())
        let long = Array(repeating: "antidisestablishmentarianism", count: 400).joined(separator: " ")
        XCTAssertEqual(expert.tokenizer.encode(long).count, 256)
        let out = expert.embed([long, "short"])
        XCTAssertEqual(out.shape, [2, 384])
        XCTAssertTrue(out.isFinite)
    }
}
