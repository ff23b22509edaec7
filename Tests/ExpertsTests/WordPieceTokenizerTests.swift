import Foundation
import XCTest
@testable import Experts

final class WordPieceTokenizerTests: XCTestCase {
    // MARK: - The real all-MiniLM-L6-v2 vocabulary against Hugging Face

    private struct Fixture: Decodable {
        struct Case: Decodable {
            let name: String
            let text: String
            let ids: [Int32]
            let tokens: [String]
        }
        let reference: String
        let maxLength: Int
        let cases: [Case]
    }

    private func loadFixture() throws -> Fixture {
        let data = try Data(contentsOf: TestAssets.fixture("minilm_tokens.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Fixture.self, from: data)
    }

    private func minilmTokenizer(maxLength: Int = 256) throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabulary: TestAssets.minilmDirectory().appendingPathComponent("vocab.txt"),
                               maxLength: maxLength)
    }

    func testIdsMatchHuggingFaceForEveryFixtureSentence() throws {
        let fixture = try loadFixture()
        let tokenizer = try minilmTokenizer(maxLength: fixture.maxLength)
        XCTAssertGreaterThanOrEqual(fixture.cases.count, 60)
        var mismatches: [String] = []
        for item in fixture.cases where tokenizer.encode(item.text) != item.ids {
            mismatches.append("\(item.name): expected \(item.tokens), got [CLS] \(tokenizer.tokens(item.text)) [SEP]")
        }
        XCTAssert(mismatches.isEmpty, "\(mismatches.count) of \(fixture.cases.count) differ from \(fixture.reference):\n"
                  + mismatches.joined(separator: "\n"))
    }

    func testTokensAreTheFixturePiecesWithoutSpecials() throws {
        let fixture = try loadFixture()
        let tokenizer = try minilmTokenizer()
        for item in fixture.cases where item.ids.count < fixture.maxLength && !item.text.contains("[") {
            XCTAssertEqual(tokenizer.tokens(item.text), Array(item.tokens.dropFirst().dropLast()), item.name)
        }
    }

    func testLongTextIsTruncatedWithSEPLast() throws {
        let tokenizer = try minilmTokenizer()
        let text = Array(repeating: "a rather long sentence, repeated.", count: 100).joined(separator: " ")
        XCTAssertGreaterThan(tokenizer.tokens(text).count, 256)
        let ids = tokenizer.encode(text)
        XCTAssertEqual(ids.count, 256)
        XCTAssertEqual(ids.first, tokenizer.clsID)
        XCTAssertEqual(ids.last, tokenizer.sepID)

        let short = try minilmTokenizer(maxLength: 5)
        XCTAssertEqual(short.encode("the cat sat on the mat").count, 5)
        XCTAssertEqual(short.encode("the cat sat on the mat").last, short.sepID)
        XCTAssertEqual(short.encode("the cat").count, 4)
        XCTAssertEqual(try minilmTokenizer(maxLength: 2).encode("the cat"), [101, 102])
    }

    func testSpecialTokenIdsOfMiniLM() throws {
        let tokenizer = try minilmTokenizer()
        XCTAssertEqual(tokenizer.padID, 0)
        XCTAssertEqual(tokenizer.unknownID, 100)
        XCTAssertEqual(tokenizer.clsID, 101)
        XCTAssertEqual(tokenizer.sepID, 102)
        XCTAssertEqual(tokenizer.maskID, 103)
        XCTAssertEqual(tokenizer.vocabularySize, 30522)
        XCTAssertEqual(tokenizer.encode(""), [101, 102])
    }

    func testBatchIsPaddedWithMask() throws {
        let tokenizer = try minilmTokenizer()
        let (ids, mask) = tokenizer.encode(batch: ["hello", "hello world again", ""])
        XCTAssertEqual(ids.map(\.count), [5, 5, 5])
        XCTAssertEqual(ids[0], [101, 7592, 102, 0, 0])
        XCTAssertEqual(mask[0], [1, 1, 1, 0, 0])
        XCTAssertEqual(mask[1], [1, 1, 1, 1, 1])
        XCTAssertEqual(mask[2], [1, 1, 0, 0, 0])
        XCTAssertTrue(tokenizer.encode(batch: []).ids.isEmpty)
    }

    /// Long inputs (a long paragraph, one huge unspaced word) are handled
    /// (speed is measured in `net2net bench --suite text`, not here).
    func testLongInputs() throws {
        let tokenizer = try minilmTokenizer()
        let sentence = "The quick brown fox jumps over the lazy dog, naïvely — 42 times! "
        let pieces = tokenizer.tokens(String(repeating: sentence, count: 2_000))
        XCTAssertEqual(pieces.count, 2_000 * tokenizer.tokens(sentence).count)
        XCTAssertEqual(tokenizer.encode(String(repeating: sentence, count: 2_000)).count, 256)
        let unspaced = String(repeating: "한국어ภาษาไทยé", count: 20_000)  // one 260k-scalar word after NFD
        XCTAssertEqual(tokenizer.tokens(unspaced), ["[UNK]"])
    }

    // MARK: - The algorithm on a tiny vocabulary

    private var temporaryFiles: [URL] = []

    override func tearDown() {
        for url in temporaryFiles { try? FileManager.default.removeItem(at: url) }
        temporaryFiles = []
        super.tearDown()
    }

    private func writeVocabulary(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("wordpiece-\(UUID().uuidString).txt")
        try text.write(to: url, atomically: true, encoding: .utf8)
        temporaryFiles.append(url)
        return url
    }

    /// [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then the pieces from 5.
    private func tinyTokenizer(_ pieces: [String], maxLength: Int = 256) throws -> WordPieceTokenizer {
        let lines = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + pieces
        return try WordPieceTokenizer(vocabulary: writeVocabulary(lines.joined(separator: "\n") + "\n"),
                                      maxLength: maxLength)
    }

    func testLongestMatchFirstWithContinuations() throws {
        let tokenizer = try tinyTokenizer(["un", "unaff", "##aff", "##able", "##a", "##ffable", "play", "##ing", "a"])
        XCTAssertEqual(tokenizer.tokens("unaffable"), ["unaff", "##able"])  // greedy, not un ##affable
        XCTAssertEqual(tokenizer.tokens("playing"), ["play", "##ing"])
        XCTAssertEqual(tokenizer.tokens("a"), ["a"])
        XCTAssertEqual(tokenizer.tokens("aa"), ["a", "##a"])
        XCTAssertEqual(tokenizer.encode("playing unaffable"), [2, 11, 12, 6, 8, 3])
        XCTAssertEqual(tokenizer.id(of: "##ing"), 12)
        XCTAssertEqual(tokenizer.vocabularySize, 14)
    }

    func testUnknownWordsBecomeOneUNK() throws {
        let tokenizer = try tinyTokenizer(["play", "##ing", "a", "##a", "x"])
        // "playx": "play" matches, but "##x" is not in the vocabulary → the whole word is [UNK].
        XCTAssertEqual(tokenizer.tokens("playx play"), ["[UNK]", "play"])
        XCTAssertEqual(tokenizer.tokens("zzz"), ["[UNK]"])
        XCTAssertEqual(tokenizer.tokens(String(repeating: "a", count: 100)).count, 100)
        XCTAssertEqual(tokenizer.tokens(String(repeating: "a", count: 101)), ["[UNK]"])
        XCTAssertEqual(tokenizer.encode("playx"), [2, 1, 3])
    }

    func testPunctuationSplitsAndWhitespaceSeparates() throws {
        let tokenizer = try tinyTokenizer(["a", "b", ",", ".", "$", "-", "\u{201C}", "\u{201D}", "¿", "##b"])
        XCTAssertEqual(tokenizer.tokens("a,b.\t\n a$b"), ["a", ",", "b", ".", "a", "$", "b"])
        XCTAssertEqual(tokenizer.tokens("a-b \u{201C}a\u{201D} ¿b"), ["a", "-", "b", "\u{201C}", "a", "\u{201D}", "¿", "b"])
        XCTAssertEqual(tokenizer.tokens("a\u{00A0}b\u{3000}ab"), ["a", "b", "a", "##b"])
        XCTAssertEqual(tokenizer.tokens("  \t\n "), [])
    }

    func testNormalisationLowercasesStripsAccentsAndCleans() throws {
        let tokenizer = try tinyTokenizer(["cafe", "naive", "i", "##stanbul", "σ", "##σ", "中", "文", "ab"])
        XCTAssertEqual(tokenizer.tokens("CAFÉ Naïve"), ["cafe", "naive"])
        XCTAssertEqual(tokenizer.tokens("cafe\u{0301}"), ["cafe"])  // decomposed accent
        XCTAssertEqual(tokenizer.tokens("İstanbul"), ["i", "##stanbul"])
        XCTAssertEqual(tokenizer.tokens("ΣΣ"), ["σ", "##σ"])  // no final-sigma rule, as in tokenizers
        XCTAssertEqual(tokenizer.tokens("中文"), ["中", "文"])  // each ideograph is a word
        XCTAssertEqual(tokenizer.tokens("a\u{0}b a\u{7}b a\u{FFFD}b a\u{200D}b a\u{AD}b"),
                       ["ab", "ab", "ab", "ab", "ab"])  // NUL, controls, U+FFFD, format characters vanish
    }

    func testSpecialTokensInTextStayWhole() throws {
        let tokenizer = try tinyTokenizer(["a", "b", "[", "]", "sep"])
        XCTAssertEqual(tokenizer.encode("a [SEP] b[MASK]"), [2, 5, 3, 6, 4, 3])
        XCTAssertEqual(tokenizer.tokens("[sep]"), ["[", "sep", "]"])  // only the exact spelling
    }

    // MARK: - Bad vocabulary files

    private func assertBadAsset(_ text: String?, mentions needle: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try text.map(writeVocabulary)
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("no-such-vocab-\(UUID().uuidString).txt")
        XCTAssertThrowsError(try WordPieceTokenizer(vocabulary: url), file: file, line: line) { error in
            guard case .badAsset(let path, let problem)? = error as? ExpertError else {
                return XCTFail("expected ExpertError.badAsset, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(path, url.path, file: file, line: line)
            XCTAssert(problem.contains(needle), "'\(problem)' does not mention '\(needle)'", file: file, line: line)
            XCTAssert(error.localizedDescription.contains(url.lastPathComponent), file: file, line: line)
        }
    }

    func testBadVocabularyFilesThrowClearErrors() throws {
        try assertBadAsset(nil, mentions: "cannot read")
        try assertBadAsset("", mentions: "empty")
        try assertBadAsset("[PAD]\n[UNK]\n[SEP]\nhello\n", mentions: "[CLS]")
        try assertBadAsset("[PAD]\n[UNK]\n[CLS]\nhello\n", mentions: "[SEP]")
        try assertBadAsset("[PAD]\n[CLS]\n[SEP]\n", mentions: "[UNK]")
        try assertBadAsset("[UNK]\n[CLS]\n[SEP]\n", mentions: "[PAD]")
        let notUTF8 = FileManager.default.temporaryDirectory.appendingPathComponent("vocab-\(UUID().uuidString).txt")
        try Data([0x61, 0xC3, 0x28, 0xFF, 0x0A]).write(to: notUTF8)
        temporaryFiles.append(notUTF8)
        XCTAssertThrowsError(try WordPieceTokenizer(vocabulary: notUTF8)) { error in
            XCTAssertEqual(error as? ExpertError, .badAsset(path: notUTF8.path, problem: "the vocabulary is not UTF-8 text"))
        }
    }

    func testCarriageReturnLineEndingsAreAccepted() throws {
        let url = try writeVocabulary("[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhi\r\n")
        let tokenizer = try WordPieceTokenizer(vocabulary: url)
        XCTAssertEqual(tokenizer.encode("Hi"), [2, 4, 3])
        XCTAssertNil(tokenizer.maskID)
    }
}
