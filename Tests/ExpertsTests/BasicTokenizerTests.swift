import Foundation
import XCTest
@testable import Experts

/// BERT's normalisation and splitting against `tokenizers` on every Unicode scalar.
final class BasicTokenizerTests: XCTestCase {
    private struct ScalarFixture: Decodable {
        let reference: String
        /// [first scalar, count, class]
        let runs: [[Run]]
        /// [scalar, [[word scalars]]]
        let explicit: [[Explicit]]

        enum Run: Decodable {
            case number(UInt32), kind(String)
            init(from decoder: Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(UInt32.self) { self = .number(number) } else {
                    self = .kind(try container.decode(String.self))
                }
            }
        }

        enum Explicit: Decodable {
            case scalar(UInt32), words([[UInt32]])
            init(from decoder: Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let scalar = try? container.decode(UInt32.self) { self = .scalar(scalar) } else {
                    self = .words(try container.decode([[UInt32]].self))
                }
            }
        }
    }

    /// Every scalar c, in the context "x" c "x", gives the words `tokenizers`
    /// gives: kept, removed, whitespace, isolated, or the listed lower-cased /
    /// decomposed words. All contexts are joined by spaces and split at once,
    /// which is equivalent because "x" and the space are starters.
    func testEveryScalarIsNormalisedAndSplitLikeTokenizers() throws {
        let data = try Data(contentsOf: TestAssets.fixture("bert_scalars.json"))
        let fixture = try JSONDecoder().decode(ScalarFixture.self, from: data)
        var explicit: [UInt32: [String]] = [:]
        for entry in fixture.explicit {
            guard case .scalar(let scalar) = entry[0], case .words(let words) = entry[1] else {
                return XCTFail("malformed explicit entry")
            }
            explicit[scalar] = words.map { String(String.UnicodeScalarView($0.map { Unicode.Scalar($0)! })) }
        }
        var text = String.UnicodeScalarView()
        var expected: [(scalar: UInt32, words: [String])] = []
        for run in fixture.runs {
            guard case .number(let first) = run[0], case .number(let count) = run[1], case .kind(let kind) = run[2] else {
                return XCTFail("malformed run")
            }
            for value in first..<(first + count) {
                let scalar = Unicode.Scalar(value)!
                let c = String(scalar)
                let words: [String]
                switch kind {
                case "K": words = ["x" + c + "x"]
                case "R": words = ["xx"]
                case "S": words = ["x", "x"]
                case "I": words = ["x", c, "x"]
                default:
                    guard let listed = explicit[value] else { continue }  // unlisted Hangul syllables
                    words = listed
                }
                // One scalar at a time: UnicodeScalarView.append(contentsOf:) is very slow.
                for part in ["x", scalar, "x", " "] as [Unicode.Scalar] { text.append(part) }
                expected.append((value, words))
            }
        }
        XCTAssertGreaterThan(expected.count, 1_000_000)
        let words = BasicTokenizer().words(String(text))
        var position = 0
        var mismatches: [String] = []
        for (scalar, want) in expected {
            let got = Array(words[min(position, words.count)..<min(position + want.count, words.count)])
            if got != want {
                mismatches.append(String(format: "U+%04X: expected %@, got %@", scalar, "\(want)", "\(got)"))
                break  // the alignment is lost after the first difference
            }
            position += want.count
        }
        XCTAssertEqual(position, words.count, "extra words at the end")
        XCTAssert(mismatches.isEmpty, "differs from \(fixture.reference): \(mismatches.joined(separator: "\n"))")
    }
}
