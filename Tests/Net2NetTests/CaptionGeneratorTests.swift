import Datasets
import Foundation
import Net2Net
import TensorCore
import XCTest

/// Seeded training captions, and the held-out prompts that must lie outside them.
final class CaptionGeneratorTests: XCTestCase {
    let generator = CaptionGenerator()
    let everyProperty: [ImageAdjective] = [.dark, .wide, .patterned, .large]

    func normalized(_ text: String) -> String { CaptionGenerator.words(of: text).joined(separator: " ") }

    func testTheSameSeedGivesTheSameCaptions() {
        func draw(_ seed: UInt64) -> [String] {
            var g = SeededGenerator(seed: seed)
            return (0..<200).map { generator.caption(class: $0 % 20, adjectives: everyProperty, using: &g) }
        }
        XCTAssertEqual(draw(42), draw(42))
        XCTAssertNotEqual(draw(42), draw(43))
        // Pinned captions: the drawing procedure must not change silently across platforms or releases.
        var g = SeededGenerator(seed: 0)
        let first = generator.caption(class: 7, adjectives: [.dark, .narrow], using: &g)
        let rest = (0..<5).map { _ in generator.caption(class: 7, adjectives: [.dark, .narrow], using: &g) }
        XCTAssertEqual([first] + rest, [
            "a picture of a narrow black sneaker", "a grayscale photo of a pair of black slim trainers",
            "this is a pair of deep-coloured trainers", "this is a pair of slim black trainers",
            "a photo of slim running shoes", "an image of a sneaker",
        ])
    }

    func testCaptionsVaryWithinEveryClass() {
        var g = SeededGenerator(seed: 1)
        for label in 0..<20 {
            let captions = (0..<3000).map { _ in generator.caption(class: label, adjectives: everyProperty, using: &g) }
            let distinct = Set(captions)
            XCTAssertGreaterThan(distinct.count, 500, "class \(label)")
            for noun in CaptionGenerator.nouns[label] {
                XCTAssertTrue(captions.contains { $0.contains(noun.head) }, "class \(label) never says '\(noun.head)'")
            }
            for template in CaptionGenerator.templates where template != "{}" {
                let fixed = template.replacingOccurrences(of: "{}", with: "")
                XCTAssertTrue(captions.contains { $0.contains(fixed) }, "class \(label) never uses '\(template)'")
            }
            // 0, 1 and 2 adjectives all occur, never more.
            let counts = Set(captions.map { caption in
                everyProperty.filter { adjective in
                    CaptionGenerator.synonyms(of: adjective).contains { synonym in
                        CaptionGenerator.words(of: caption).contains(CaptionGenerator.words(of: synonym)[0])
                    }
                }.count
            })
            XCTAssertEqual(counts, [0, 1, 2], "class \(label)")
        }
    }

    func testCaptionsUseOnlyTheImagesAdjectives() {
        var g = SeededGenerator(seed: 2)
        let others = ImageAdjective.allCases.filter { $0 != .light && $0 != .small }
        let foreign = Set(others.flatMap { CaptionGenerator.synonyms(of: $0) }.flatMap(CaptionGenerator.words(of:)))
        var used = Set<String>()
        for _ in 0..<2000 {
            let caption = generator.caption(class: 4, adjectives: [.light, .small], using: &g)
            let words = Set(CaptionGenerator.words(of: caption))
            XCTAssertTrue(words.isDisjoint(with: foreign), caption)
            used.formUnion(words)
        }
        XCTAssertTrue(used.isSuperset(of: ["light", "pale", "bright", "small", "tiny"]))
        var h = SeededGenerator(seed: 3)
        for _ in 0..<200 {
            let caption = generator.caption(class: 12, adjectives: [], using: &h)
            XCTAssertTrue(Set(CaptionGenerator.words(of: caption)).isDisjoint(with: foreign.union(["light", "pale", "small"])))
        }
    }

    func testArticlesAgreeWithTheNextWord() {
        XCTAssertTrue(generator.allCaptions(class: 9).contains("an ankle boot"))
        XCTAssertTrue(generator.allCaptions(class: 9).contains("a large ankle boot"))
        XCTAssertTrue(generator.allCaptions(class: 4).contains("a photo of an overcoat"))
        XCTAssertTrue(generator.allCaptions(class: 2).contains("an image of a pale pullover"))
        XCTAssertTrue(generator.allCaptions(class: 17).contains("a handwritten 7"))
        for label in 0..<20 {
            for caption in generator.allCaptions(class: label) {
                let words = CaptionGenerator.words(of: caption)
                for (word, next) in zip(words, words.dropFirst()) {
                    if word == "a" { XCTAssertFalse("aeiou".contains(next.first!), caption) }
                    if word == "an" { XCTAssertTrue("aeiou".contains(next.first!), caption) }
                }
            }
        }
    }

    func testEveryDrawnCaptionIsInTheEnumeratedSpace() {
        var g = SeededGenerator(seed: 4)
        let spaces = (0..<20).map { generator.allCaptions(class: $0) }
        for i in 0..<20_000 {
            let label = i % 20
            let adjectives = ImageProperty.allCases.compactMap { property -> ImageAdjective? in
                switch g.next() % 3 {
                case 0: return property.adjectives.low
                case 1: return property.adjectives.high
                default: return nil
                }
            }
            let caption = generator.caption(class: label, adjectives: adjectives, using: &g)
            XCTAssertTrue(spaces[label].contains(caption), caption)
        }
    }

    func testCaptionsOfADataSetDependOnlyOnSeedAndIndex() {
        var g = SeededGenerator(seed: 9)
        let images = g.normalTensor([12, 1, 28, 28]).scalars.map { max(-1, min(1, $0)) }
        let data = ImageDataset(images: Tensor(shape: [12, 1, 28, 28], scalars: images),
                                classLabels: (0..<12).map { $0 % 10 },
                                domains: (0..<12).map { $0 < 6 ? .fashion : .digit })
        let attributes = ImageAttributes(fitting: data)
        let captions = generator.captions(for: data, attributes: attributes, seed: 5, perImage: 4)
        XCTAssertEqual(captions.count, 12)
        XCTAssertTrue(captions.allSatisfy { $0.count == 4 })
        XCTAssertEqual(captions, generator.captions(for: data, attributes: attributes, seed: 5, perImage: 4))
        XCTAssertNotEqual(captions, generator.captions(for: data, attributes: attributes, seed: 6, perImage: 4))
        let longer = generator.captions(for: ImageDataset.union([data, data]), attributes: attributes, seed: 5, perImage: 4)
        XCTAssertEqual(Array(longer.prefix(12)), captions)
        // Digit 7 (index 7, a digit) is named as a digit.
        XCTAssertTrue(captions[7].allSatisfy { $0.contains("seven") || $0.contains("7") }, "\(captions[7])")
    }

    // MARK: held-out prompts

    func testHeldOutPromptsCoverEveryClass() {
        let prompts = HeldOutPrompt.all
        XCTAssertEqual(Set(prompts.map(\.text)).count, prompts.count, "duplicate prompts")
        for label in 0..<20 {
            let count = prompts.filter { $0.label == label }.count
            XCTAssertGreaterThanOrEqual(count, label < 10 ? 3 : 2, "class \(label)")
        }
        XCTAssertTrue(prompts.allSatisfy { (0..<20).contains($0.label) })
    }

    /// No held-out prompt is (up to case and punctuation) a caption of any
    /// class, over the generator's whole space, and each has a word the
    /// generator never uses.
    func testHeldOutPromptsLieOutsideTheGeneratorsCaptions() {
        var space = Set<String>()
        for label in 0..<20 { space.formUnion(generator.allCaptions(class: label).map(normalized)) }
        XCTAssertGreaterThan(space.count, 100_000)
        let vocabulary = generator.allWords()
        // The vocabulary really is the generator's: the enumerated captions use exactly these words.
        XCTAssertEqual(Set(space.flatMap { $0.split(separator: " ").map(String.init) }), vocabulary)
        for prompt in HeldOutPrompt.all {
            XCTAssertFalse(space.contains(normalized(prompt.text)), "'\(prompt.text)' is a training caption")
            let novel = CaptionGenerator.words(of: prompt.text).filter { !vocabulary.contains($0) }
            XCTAssertFalse(novel.isEmpty, "'\(prompt.text)' uses only the generator's words")
        }
    }
}

/// The WordNet vocabulary, and the caption parser that keeps held-out prompts out of it.
final class WordNetCaptionTests: XCTestCase {
    let wordnet = CaptionGenerator(vocabulary: .wordnet)
    let described = CaptionGenerator(vocabulary: .described)
    let templates = CaptionGenerator()
    let everyProperty: [ImageAdjective] = [.light, .narrow, .plain, .small]

    /// The parser accepts every caption either vocabulary draws, and nothing
    /// with a word added, removed or replaced.
    func testParserAcceptsDrawnCaptionsAndRejectsAlteredOnes() {
        for generator in [wordnet, described, templates] {
            var g = SeededGenerator(seed: 11)
            for i in 0..<4000 {
                let caption = generator.caption(class: i % 20, adjectives: everyProperty, using: &g)
                XCTAssertTrue(generator.produces(caption), "\(generator.vocabulary): '\(caption)'")
                XCTAssertTrue(generator.produces(caption.uppercased() + "."), "case and punctuation: '\(caption)'")
                let words = caption.split(separator: " ")
                XCTAssertFalse(generator.produces(caption + " today"), "'\(caption) today'")
                XCTAssertFalse(generator.produces("zebra " + caption), "'zebra \(caption)'")
                if words.count > 2 {
                    var swapped = words
                    swapped[words.count - 1] = "teapot"
                    XCTAssertFalse(generator.produces(swapped.joined(separator: " ")), "'\(swapped)'")
                }
            }
        }
    }

    /// For the templates vocabulary the parser agrees with the enumerated caption space.
    func testParserAgreesWithTheEnumeratedSpace() {
        var g = SeededGenerator(seed: 12)
        for label in [0, 5, 9, 13] {
            let space = Array(templates.allCaptions(class: label))
            for _ in 0..<1500 { XCTAssertTrue(templates.produces(space[Int(g.next() % UInt64(space.count))])) }
        }
        // The templates vocabulary does not produce WordNet's extra names; the WordNet one does.
        XCTAssertFalse(templates.produces("a sundress"))
        XCTAssertTrue(wordnet.produces("a sundress"))
        XCTAssertTrue(wordnet.produces("a photo of a pale shoe consisting of a sole fastened by straps to the foot"))
        XCTAssertTrue(wordnet.produces("show me the numeral seven"))
        XCTAssertFalse(wordnet.produces("show me the numeral eleven"))
    }

    func testWordNetCaptionsNameEveryEntryAndAreSeeded() {
        var g = SeededGenerator(seed: 3)
        for label in 0..<20 {
            let captions = (0..<6000).map { _ in wordnet.caption(class: label, adjectives: everyProperty, using: &g) }
            for noun in CaptionGenerator.nouns(class: label, vocabulary: .wordnet) {
                XCTAssertTrue(captions.contains { $0.hasSuffix(noun.head) || $0.contains(noun.head + ",") || $0.contains(noun.head + " ") },
                              "class \(label) never says '\(noun.head)'")
            }
            let glosses = CaptionGenerator.glosses(class: label)
            XCTAssertEqual(glosses.isEmpty, label >= 10)
            let withGloss = captions.filter { caption in glosses.contains { caption.contains(CaptionGenerator.glossNounHead($0)) } }.count
            if !glosses.isEmpty {
                // A quarter of the captions describe by a gloss.
                XCTAssertEqual(Double(withGloss) / Double(captions.count), 0.25, accuracy: 0.03, "class \(label)")
            }
            for template in CaptionGenerator.moreTemplates {
                let parts = template.components(separatedBy: "{}")
                XCTAssertTrue(captions.contains { $0.hasPrefix(parts[0]) && $0.hasSuffix(parts[1]) }, "class \(label) never uses '\(template)'")
            }
        }
        func draw(_ seed: UInt64) -> [String] {
            var g = SeededGenerator(seed: seed)
            return (0..<100).map { wordnet.caption(class: $0 % 20, adjectives: everyProperty, using: &g) }
        }
        XCTAssertEqual(draw(5), draw(5))
        XCTAssertNotEqual(draw(5), draw(6))
    }

    /// No name means two classes (a caption of one class must not name another).
    func testNamesBelongToOneClass() {
        var owner: [String: Int] = [:]
        for label in 0..<20 {
            for noun in CaptionGenerator.nouns(class: label, vocabulary: .wordnet) {
                let name = CaptionGenerator.words(of: noun.head).joined(separator: " ")
                if let other = owner[name] { XCTFail("'\(name)' names class \(other) and \(label)") }
                owner[name] = label
            }
            XCTAssertGreaterThanOrEqual(CaptionGenerator.nouns(class: label, vocabulary: .wordnet).count, 5, "class \(label)")
        }
    }

    /// Both held-out sets lie outside both vocabularies' captions, and the
    /// paraphrases cover every class and repeat no prompt of the first set.
    func testHeldOutPromptsAndParaphrasesAreNoCaption() {
        for prompt in HeldOutPrompt.all + HeldOutPrompt.paraphrases {
            XCTAssertFalse(wordnet.produces(prompt.text), "'\(prompt.text)' is a WordNet training caption")
            XCTAssertFalse(described.produces(prompt.text), "'\(prompt.text)' is a described training caption")
            XCTAssertFalse(templates.produces(prompt.text), "'\(prompt.text)' is a training caption")
        }
        let paraphrases = HeldOutPrompt.paraphrases
        XCTAssertGreaterThanOrEqual(paraphrases.count, 50)
        XCTAssertEqual(Set(paraphrases.map(\.text)).count, paraphrases.count)
        XCTAssertTrue(Set(paraphrases.map(\.text)).isDisjoint(with: HeldOutPrompt.all.map(\.text)))
        for label in 0..<20 { XCTAssertGreaterThanOrEqual(paraphrases.filter { $0.label == label }.count, 3, "class \(label)") }
    }

    /// Balanced caption counts: rarer classes get proportionally more, by hand-worked counts.
    func testBalancedCaptionCounts() throws {
        // Class 0: 6 images, class 12: 2 images, class 15: 4 images (6/4 = 1.5 rounds to 2).
        let labels = [0, 0, 12, 0, 15, 0, 15, 0, 12, 15, 0, 15]
        XCTAssertEqual(ExperimentExperts.captionCounts(labels: labels, perImage: 2, balance: 0), Array(repeating: 2, count: 12))
        XCTAssertEqual(ExperimentExperts.captionCounts(labels: labels, perImage: 1, balance: 1),
                       [1, 1, 3, 1, 2, 1, 2, 1, 3, 2, 1, 2])
        XCTAssertEqual(ExperimentExperts.captionCounts(labels: labels, perImage: 2, balance: 1),
                       [2, 2, 6, 2, 4, 2, 4, 2, 6, 4, 2, 4])
        // Half-way: √3 = 1.73 → 2, √1.5 = 1.22 → 1; 13.33^0.5 = 3.65 → 4 (the digits of the shipped data).
        XCTAssertEqual(ExperimentExperts.captionCounts(labels: labels, perImage: 1, balance: 0.5),
                       [1, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1])
        XCTAssertEqual(ExperimentExperts.captionCounts(labels: Array(repeating: 0, count: 6000) + Array(repeating: 13, count: 450),
                                                       perImage: 1, balance: 0.5).last, 4)
        let recipe = try ExperimentRecipe.load(yaml: "experiment: text-to-image\ncaptions: wordnet\nbalance_classes: true")
        XCTAssertEqual(recipe.captions, .wordnet)
        XCTAssertEqual(recipe.balanceClasses, 1)
        XCTAssertEqual(try ExperimentRecipe.load(yaml: "balance_classes: 0.5").balanceClasses, 0.5)
        XCTAssertThrowsError(try ExperimentRecipe.load(yaml: "balance_classes: 1.5"))
        XCTAssertThrowsError(try ExperimentRecipe.load(yaml: "captions: thesaurus")) { error in
            XCTAssertTrue("\(error)".contains("must be one of templates, wordnet"), "\(error)")
        }
        XCTAssertThrowsError(try ExperimentRecipe.load(yaml: "balance_classes: 3"))
    }
}
