import Formats
import Foundation
import TensorCore
import XCTest
@testable import Experts

/// all-mpnet-base-v2 from the `mpnet` asset against sentence-transformers
/// (scripts/fixtures/make_mpnet.py): token ids, the relative position
/// buckets, and the normalised embeddings within 1e-4.
final class MPNetTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int32]
        }
        struct Buckets: Decodable {
            let first: Int
            let buckets: [Int]
        }
        let reference: String
        let max_seq_length: Int
        let sentences: [String]
        let token_ids: [[Int32]]
        let tokenizer_cases: [Case]
        let relative_buckets: Buckets
    }

    static let fixture: Fixture = {
        let data = try! Data(contentsOf: TestAssets.fixture("mpnet_embeddings.json"))
        return try! JSONDecoder().decode(Fixture.self, from: data)
    }()

    func expert() throws -> MPNetTextExpert {
        try MPNetTextExpert(directory: try TestAssets.directory("mpnet"))
    }

    func testTokenIDsMatchSentenceTransformers() throws {
        let fixture = Self.fixture
        let tokenizer = try WordPieceTokenizer(
            vocabulary: try TestAssets.directory("mpnet").appendingPathComponent("vocab.txt"),
            maxLength: fixture.max_seq_length, specialTokens: .mpnet)
        XCTAssertEqual([tokenizer.clsID, tokenizer.padID, tokenizer.sepID, tokenizer.unknownID, tokenizer.maskID],
                       [0, 1, 2, 104, 30526])
        var mismatches: [String] = []
        let cases = zip(fixture.sentences, fixture.token_ids).map { ($0, $1) } + fixture.tokenizer_cases.map { ($0.text, $0.ids) }
        for (text, ids) in cases where tokenizer.encode(text) != ids {
            mismatches.append("\(text.prefix(60).debugDescription): expected \(ids.prefix(40)), got \(tokenizer.encode(text).prefix(40))")
        }
        XCTAssertGreaterThanOrEqual(cases.count, 60)
        XCTAssert(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) differ from \(fixture.reference):\n"
                  + mismatches.joined(separator: "\n"))
        XCTAssertEqual(fixture.token_ids.map(\.count).max(), 384, "the fixture's long sentence is truncated")
    }

    func testRelativeBucketsMatchPyTorch() {
        let table = Self.fixture.relative_buckets
        for (i, expected) in table.buckets.enumerated() {
            let offset = table.first + i
            XCTAssertEqual(RelativePositionBias.bucket(offset, bucketCount: 32, maximumDistance: 128), expected,
                           "relative position \(offset)")
        }
    }

    func testParityWithSentenceTransformers() throws {
        let expert = try expert()
        let fixture = Self.fixture
        let reference = try NPY.readFloat32(TestAssets.fixture("mpnet_embeddings.npy"))
        XCTAssertGreaterThanOrEqual(fixture.sentences.count, 50)
        XCTAssertEqual(reference.shape, [fixture.sentences.count, MPNetTextExpert.dimension])
        func worst(_ ours: Tensor) -> Float {
            zip(ours.scalars, reference.scalars).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        }
        let packed = expert.embed(fixture.sentences)
        XCTAssertEqual(packed.shape, reference.shape)
        let packedError = worst(packed)
        expert.encoder.padsBatches = true
        let paddedError = worst(expert.embed(fixture.sentences))
        print("MPNet parity over \(fixture.sentences.count) sentences: max |ours − sentence-transformers| = "
              + "\(packedError) packed, \(paddedError) padded")
        XCTAssertLessThan(packedError, 1e-4, "max |ours − sentence-transformers| (packed)")
        XCTAssertLessThan(paddedError, 1e-4, "max |ours − sentence-transformers| (padded)")
        XCTAssertEqual(expert.embed([]).shape, [0, MPNetTextExpert.dimension])
    }

    func testLongInputsAreTruncatedAndRowsHaveUnitNorm() throws {
        let expert = try expert()
        let long = Array(repeating: "antidisestablishmentarianism", count: 400).joined(separator: " ")
        XCTAssertEqual(expert.tokenizer.encode(long).count, 384)
        let out = expert.embed([long, "short", ""])
        XCTAssertEqual(out.shape, [3, 768])
        for r in 0..<3 {
            let norm = out.rows(r..<(r + 1)).scalars.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            XCTAssertEqual(norm, 1, accuracy: 1e-5, "row \(r)")
        }
    }
}
