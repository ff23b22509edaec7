import Experts
import Formats
import Foundation
import TensorCore
import XCTest

/// Parity of `MiniLMEncoder` with sentence-transformers on the fixtures of
/// scripts/fixtures/make_minilm_embeddings.py (57 sentences, token ids as
/// sentence-transformers 6.2.0 fed them, reference embeddings in float32).
final class MiniLMEncoderTests: XCTestCase {
    /// Max |ours − sentence-transformers| per element.
    static let parityTolerance: Float = 1e-4
    /// Max |batched − unbatched| per element.
    static let batchingTolerance: Float = 1e-5

    struct Fixture: Decodable {
        let sentences: [String]
        let token_ids: [[Int32]]
    }

    nonisolated(unsafe) static var cachedEncoder: MiniLMEncoder?

    func encoder() throws -> MiniLMEncoder {
        if let e = Self.cachedEncoder { return e }
        let e = try MiniLMEncoder(directory: try TestAssets.minilmDirectory())
        Self.cachedEncoder = e
        return e
    }

    func fixture() throws -> (Fixture, Tensor) {
        let data = try Data(contentsOf: TestAssets.fixture("minilm_embeddings.json"))
        let f = try JSONDecoder().decode(Fixture.self, from: data)
        let reference = try NPY.readFloat32(TestAssets.fixture("minilm_embeddings.npy"))
        XCTAssertEqual(reference.shape, [f.sentences.count, 384])
        return (f, reference)
    }

    func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.shape == b.shape)
        return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// Embeds `ids` in the given groups (index lists) and reassembles the rows in order.
    func embed(_ encoder: MiniLMEncoder, _ ids: [[Int32]], groups: [[Int]]) -> Tensor {
        var rows = [[Float]](repeating: [], count: ids.count)
        for group in groups {
            let out = encoder.embed(tokenIDs: group.map { ids[$0] })
            for (i, index) in group.enumerated() { rows[index] = Array(out.scalars[(i * 384)..<((i + 1) * 384)]) }
        }
        return Tensor(shape: [ids.count, 384], scalars: rows.flatMap { $0 })
    }

    func testParityWithSentenceTransformers() throws {
        let encoder = try encoder()
        let (f, reference) = try fixture()
        XCTAssertGreaterThanOrEqual(f.sentences.count, 50)
        let all = Array(0..<f.sentences.count)
        // Different lengths in one padded batch, packed, singles, and mixed groups.
        let byLength = all.sorted { f.token_ids[$0].count < f.token_ids[$1].count }
        let groupings: [(String, [[Int]])] = [
            ("one batch", [all]),
            ("singles", all.map { [$0] }),
            ("groups of 7", stride(from: 0, to: all.count, by: 7).map { Array(all[$0..<min(all.count, $0 + 7)]) }),
            ("short with long", [byLength.prefix(5) + byLength.suffix(2), Array(byLength.dropFirst(5).dropLast(2))]),
        ]
        let baseline = embed(encoder, f.token_ids, groups: [all])
        for padded in [false, true] {
            encoder.padsBatches = padded
            defer { encoder.padsBatches = false }
            for (name, groups) in groupings {
                let ours = embed(encoder, f.token_ids, groups: groups)
                let parity = maxAbsDifference(ours, reference)
                XCTAssertLessThanOrEqual(parity, Self.parityTolerance, "\(name), padded \(padded)")
                XCTAssertLessThanOrEqual(maxAbsDifference(ours, baseline), Self.batchingTolerance,
                                         "\(name), padded \(padded): batching changed the result")
                print("MiniLM parity (\(name), padded \(padded)): max |Δ| = \(parity)")
            }
        }
    }

    func testUnitNormAndEmptyBatch() throws {
        let encoder = try encoder()
        let (f, _) = try fixture()
        let out = encoder.embed(tokenIDs: f.token_ids)
        for r in 0..<out.shape[0] {
            let norm = (0..<384).reduce(Float(0)) { $0 + out[r, $1] * out[r, $1] }.squareRoot()
            XCTAssertEqual(norm, 1, accuracy: 1e-5, "row \(r)")
        }
        XCTAssertEqual(encoder.embed(tokenIDs: []).shape, [0, 384])
    }

    func testParaphrasesAreCloserThanUnrelatedSentences() throws {
        let encoder = try encoder()
        let (f, _) = try fixture()
        func ids(_ sentence: String) throws -> [Int32] {
            try XCTUnwrap(f.sentences.firstIndex(of: sentence).map { f.token_ids[$0] }, sentence)
        }
        let out = encoder.embed(tokenIDs: [
            try ids("A man is playing a guitar."), try ids("Someone plays the guitar."),
            try ids("The stock market fell today."),
            try ids("A woman is slicing an onion."), try ids("A person cuts vegetables in the kitchen."),
        ])
        func cosine(_ a: Int, _ b: Int) -> Float { (0..<384).reduce(0) { $0 + out[a, $1] * out[b, $1] } }
        XCTAssertGreaterThan(cosine(0, 1), 0.6)
        XCTAssertLessThan(cosine(0, 2), 0.2)
        XCTAssertGreaterThan(cosine(0, 1), cosine(0, 2) + 0.4)
        XCTAssertGreaterThan(cosine(3, 4), cosine(3, 2) + 0.3)
    }

    /// Max |GELU.erf − Foundation.erf| over [-6, 6] measured at 7.6e-8
    /// (float rounding near ±1 is 6e-8); bound asserted: 1.5e-7.
    func testErfMatchesFoundation() {
        let count = 1_200_001
        let x = (0..<count).map { Float(-6 + 12 * Double($0) / Double(count - 1)) }
        var y = [Float](repeating: 0, count: count)
        GELU.erf(x, &y, count: count)
        var worst: Double = 0
        for i in 0..<count { worst = max(worst, abs(Double(y[i]) - Foundation.erf(Double(x[i])))) }
        print("erf max |error| on [-6, 6]: \(worst)")
        XCTAssertLessThanOrEqual(worst, 1.5e-7)
        let extreme: [Float] = [-100, -7, 0, 7, 100]
        var e = [Float](repeating: .nan, count: 5)
        GELU.erf(extreme, &e, count: 5)
        XCTAssertEqual(e, [-1, -1, 0, 1, 1])
    }
}
