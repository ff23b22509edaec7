import Foundation
@testable import Net2Net
import TensorCore
import XCTest

/// The `described` vocabulary: WordNet's names and glosses plus a part,
/// material or use of the item, sometimes after a broader word.
final class DescribedCaptionTests: XCTestCase {
    let described = CaptionGenerator(vocabulary: .described)
    let wordnet = CaptionGenerator(vocabulary: .wordnet)
    let adjectives: [ImageAdjective] = [.dark, .narrow, .plain, .large]

    /// Half of the captions that name a fashion item carry one of its own
    /// details, a third of those after a broader word; digits and glosses carry none.
    func testDetailsBelongToTheirClassInTheStatedShares() {
        var g = SeededGenerator(seed: 21)
        for label in 0..<20 {
            let all = (0..<4000).map { _ in described.caption(class: label, adjectives: adjectives, using: &g) }
            // Captions that describe by a gloss carry no detail (a gloss may itself end "with long sleeves").
            let glosses = CaptionGenerator.glosses(class: label).map(CaptionGenerator.glossNounHead)
            let captions = all.filter { caption in !glosses.contains { caption.contains($0) } }
            if label < 10 { XCTAssertEqual(Double(captions.count) / Double(all.count), 0.75, accuracy: 0.03, "class \(label)") }
            let own = label < 10 ? CaptionDetails.details(class: label) : []
            let everyDetail = (0..<10).flatMap { CaptionDetails.details(class: $0) }
            let withDetail = captions.filter { caption in own.contains { caption.contains(" " + $0) } }
            // No caption carries a detail that only another class has.
            for caption in captions {
                let foreign = everyDetail.filter { !own.contains($0) && caption.hasSuffix(" " + $0) }
                XCTAssertTrue(foreign.isEmpty || withDetail.contains(caption), "class \(label): '\(caption)' has another class's detail")
            }
            if label >= 10 {
                XCTAssertTrue(withDetail.isEmpty, "digit captions have no details")
                continue
            }
            // Half of the captions that name the item add a detail.
            XCTAssertEqual(Double(withDetail.count) / Double(captions.count), 0.5, accuracy: 0.03, "class \(label)")
            let broader = CaptionDetails.broaderNames[label].map(\.head)
            let names = CaptionGenerator.nouns(class: label, vocabulary: .described).map(\.head)
            let viaBroader = withDetail.filter { caption in
                broader.contains { caption.contains(" \($0) ") || caption.hasPrefix("\($0) ") }
                    && !names.contains { caption.contains(" \($0) ") || caption.hasPrefix("\($0) ") }
            }
            XCTAssertEqual(Double(viaBroader.count) / Double(withDetail.count), 1.0 / 3, accuracy: 0.06, "class \(label)")
            // Every detail is drawn.
            for detail in own { XCTAssertTrue(withDetail.contains { $0.contains(" " + detail) }, "class \(label) never says '\(detail)'") }
        }
    }

    /// The parser takes a detail only after a name or broader name of the detail's class.
    func testParserTiesADetailToItsClass() {
        XCTAssertTrue(described.produces("a parka with a hood"))
        XCTAssertTrue(described.produces("a photo of footwear with a buckle"))
        XCTAssertTrue(described.produces("show me a pair of dark shoes for the beach"))
        XCTAssertTrue(described.produces("a sweater made of cashmere"))
        XCTAssertFalse(described.produces("a sandal with a hood"), "a coat's detail after a sandal")
        XCTAssertFalse(described.produces("a garment with laces"), "a shoe's detail after a garment")
        XCTAssertFalse(described.produces("footwear"), "a broader name alone")
        XCTAssertFalse(described.produces("a digit seven with a hood"))
        XCTAssertFalse(wordnet.produces("a parka with a hood"), "the wordnet vocabulary has no details")
        XCTAssertTrue(described.allWords().isSuperset(of: ["hood", "footwear", "made", "cashmere"]))
        XCTAssertFalse(wordnet.allWords().contains("cashmere"))
    }

    /// The wordnet vocabulary draws exactly as before: `described` spends no
    /// draw there, so the same seed gives the same caption whenever no detail is added.
    func testWordNetCaptionsAreTheDescribedOnesWithoutTheirDraws() {
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        for label in 10..<20 {  // digits: no details, so the two vocabularies agree caption for caption
            for _ in 0..<50 {
                XCTAssertEqual(described.caption(class: label, adjectives: adjectives, using: &a),
                               wordnet.caption(class: label, adjectives: adjectives, using: &b))
            }
        }
    }

    /// Shipped names stay with one class: no broader word is a class's own name.
    func testBroaderNamesAreNoClassName() {
        let names = Set((0..<20).flatMap { CaptionGenerator.nouns(class: $0, vocabulary: .described).map(\.head) })
        for label in 0..<10 {
            for broader in CaptionDetails.broaderNames[label] where broader.head != "top" {
                XCTAssertFalse(names.contains(broader.head), "'\(broader.head)' is a class name")
            }
        }
    }
}

/// The free-text prompt files in configs/prompts parse, cover every class,
/// and lie outside every caption vocabulary.
final class PromptSetFileTests: XCTestCase {
    func testFreeTextSetsAreNoTrainingCaption() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs/prompts")
        let generators = CaptionGenerator.Vocabulary.allCases.map { CaptionGenerator(vocabulary: $0) }
        var seen = Set(HeldOutPrompt.all.map(\.text) + HeldOutPrompt.paraphrases.map(\.text))
        for (file, count) in [("free-text-a.tsv", 57), ("free-text-b.tsv", 73)] {
            let url = directory.appendingPathComponent(file)
            let prompts = try HeldOutPrompt.load(url)
            XCTAssertEqual(prompts.count, count, file)
            for label in 0..<20 { XCTAssertTrue(prompts.contains { $0.label == label }, "\(file), class \(label)") }
            for prompt in prompts {
                XCTAssertFalse(seen.contains(prompt.text), "\(file): '\(prompt.text)' is in another set")
                seen.insert(prompt.text)
                for generator in generators {
                    XCTAssertFalse(generator.produces(prompt.text), "\(file): '\(prompt.text)' is a \(generator.vocabulary) caption")
                }
            }
        }
    }
}
