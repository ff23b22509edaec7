import Datasets
import Experts
import Foundation
import TensorCore

/// Training captions for the text → image experiment: a sentence per image
/// from its class (the 20-class scheme of `EvaluationClassifier`) and its
/// adjectives (`ImageAttributes`).
///
/// A caption is a template around a noun phrase,
///
///     template("{}")  ←  article + adjective synonyms + noun synonym
///     e.g. "a photo of " + "a" + "pale wide" + "pullover"
///
/// with "a" turned into "an" before a vowel. Every choice is drawn from a
/// `SeededGenerator`, uniformly: how many of the image's adjectives to use
/// (0, 1 or 2, at most as many as it has), which ones and in which order, a
/// synonym for each, the noun synonym and the template. The same generator
/// state gives the same caption on every platform.
///
/// With the `wordnet` vocabulary the fashion classes are also named by the
/// lemmas of their WordNet 3.0 synsets and look-alike hyponyms
/// (`CaptionLexicon`: "flip-flop", "sundress", "anorak", "rucksack"…), a
/// quarter of the captions describe the item by a WordNet gloss instead of
/// naming it ("a shoe consisting of a sole fastened by straps to the foot"),
/// digits are named as numerals, numbers and handwriting in more ways, and
/// more templates frame the phrase. The `described` vocabulary is `wordnet`
/// plus details (`CaptionDetails`): half the captions that name a fashion
/// item add one of its parts, materials or uses ("a parka with a hood",
/// "a jumper made of wool", "sandals for the beach"), and a third of those
/// name it only by a broader word ("footwear with straps", "a garment with
/// a collar"). The `templates` vocabulary is the
/// original, smaller one (and the default, so that older recipes and
/// checkpoints keep their meaning).
public struct CaptionGenerator: Sendable {
    /// Which words the captions are made of.
    public enum Vocabulary: String, CaseIterable, Sendable, Codable {
        case templates, wordnet, described
    }

    /// A way to name a class: an article (possibly "", or "a pair of") and a head noun.
    public struct Noun: Sendable, Equatable {
        public var article: String
        public var head: String
        public init(_ article: String, _ head: String) { self.article = article; self.head = head }
    }

    /// Templates; "{}" stands for the noun phrase.
    public static let templates = [
        "{}", "a photo of {}", "a picture of {}", "an image of {}", "this is {}",
        "a grayscale photo of {}", "here we see {}", "{}, centred in the frame",
    ]

    /// Noun synonyms of the 20 classes, by label (fashion 0–9, digits 10–19).
    public static let nouns: [[Noun]] = [
        [Noun("a", "t-shirt"), Noun("a", "tee"), Noun("a", "top")],
        [Noun("", "trousers"), Noun("a pair of", "pants"), Noun("", "slacks")],
        [Noun("a", "pullover"), Noun("a", "sweater"), Noun("a", "jumper")],
        [Noun("a", "dress"), Noun("a", "gown"), Noun("a", "one-piece dress")],
        [Noun("a", "coat"), Noun("a", "jacket"), Noun("a", "overcoat")],
        [Noun("a", "sandal"), Noun("a pair of", "sandals"), Noun("a", "beach sandal")],
        [Noun("a", "shirt"), Noun("a", "blouse"), Noun("a", "button-up shirt")],
        [Noun("a", "sneaker"), Noun("a pair of", "trainers"), Noun("", "running shoes")],
        [Noun("a", "bag"), Noun("a", "handbag"), Noun("a", "purse")],
        [Noun("an", "ankle boot"), Noun("a", "short boot"), Noun("a", "low boot")],
    ] + digitWords.enumerated().map { value, word in
        [Noun("the", "digit \(word)"), Noun("a", "handwritten \(value)"), Noun("the", "number \(word)")]
    }

    static let digitWords = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

    /// Synonyms of each adjective.
    public static func synonyms(of adjective: ImageAdjective) -> [String] {
        switch adjective {
        case .dark: return ["dark", "black", "deep-coloured"]
        case .light: return ["light", "pale", "bright"]
        case .wide: return ["wide", "broad"]
        case .narrow: return ["narrow", "slim"]
        case .plain: return ["plain", "solid", "simple"]
        case .patterned: return ["patterned", "textured", "detailed"]
        case .small: return ["small", "tiny"]
        case .large: return ["large", "big"]
        }
    }

    /// At most this many adjectives go into one caption.
    public static let maximumAdjectives = 2

    /// More templates of the `wordnet` vocabulary (after `templates`).
    public static let moreTemplates = [
        "a product photo of {}", "a drawing of {}", "a sketch of {}", "{} on a plain background",
        "show me {}", "I would like {}", "a small picture of {}", "a black and white picture of {}",
        "there is {} in this image", "a low-resolution photo of {}",
    ]

    /// The digits' extra names in the `wordnet` vocabulary: numeral, number and
    /// digit with the word or the numeral, and handwriting.
    static func moreDigitNouns(_ value: Int) -> [Noun] {
        let word = digitWords[value]
        var nouns = [Noun("the", "numeral \(word)"), Noun("the", "number \(value)"), Noun("the", "numeral \(value)"),
                     Noun("the", "digit \(value)"), Noun("a", "\(value)"), Noun("the", "number \(word) in handwriting"),
                     Noun("a", "\(value) drawn by hand"), Noun("a", "handwritten numeral \(value)")]
        // WordNet's other names of the numbers that are still in use.
        let synonyms = [["nought", "cipher"], ["single"], ["deuce"], ["trey"], [], [], [], [], [], []][value]
        nouns += synonyms.map { Noun("a", "handwritten \($0)") }
        return nouns
    }

    /// Names of class `label` in `vocabulary`.
    public static func nouns(class label: Int, vocabulary: Vocabulary) -> [Noun] {
        var result = nouns[label]
        guard vocabulary != .templates else { return result }
        if label >= 10 {
            result += moreDigitNouns(label - 10)
        } else {
            for entry in CaptionLexicon.fashion[label] {
                for name in entry.names where !result.contains(where: { $0.head == name }) {
                    result.append(Noun(label == 1 ? "" : "a", name))
                }
            }
        }
        return result
    }

    /// WordNet glosses of class `label` (fashion classes; digits have none).
    public static func glosses(class label: Int) -> [String] {
        label < 10 ? CaptionLexicon.fashion[label].map(\.gloss) : []
    }

    /// Templates of `vocabulary`.
    public static func templates(_ vocabulary: Vocabulary) -> [String] {
        vocabulary == .templates ? templates : templates + moreTemplates
    }

    public let vocabulary: Vocabulary
    let classNouns: [[Noun]]
    /// Each class's glosses as noun phrases (`glossNoun`): empty for the templates vocabulary and for digits.
    let classGlosses: [[Noun]]
    let classTemplates: [String]
    /// Each class's details (`described` vocabulary, fashion classes; else empty) and the broader names they may follow.
    let classDetails: [[String]]
    let classBroaderNames: [[Noun]]

    public init(vocabulary: Vocabulary = .templates) {
        self.vocabulary = vocabulary
        let labels = 0..<CaptionGenerator.nouns.count
        classNouns = labels.map { CaptionGenerator.nouns(class: $0, vocabulary: vocabulary) }
        classGlosses = labels.map { vocabulary != .templates ? CaptionGenerator.glosses(class: $0).map(CaptionGenerator.glossNoun) : [] }
        classTemplates = CaptionGenerator.templates(vocabulary)
        let described = labels.map { vocabulary == .described && $0 < 10 }
        classDetails = labels.map { described[$0] ? CaptionDetails.details(class: $0) : [] }
        classBroaderNames = labels.map { described[$0] ? CaptionDetails.broaderNames[$0] : [] }
    }

    /// One caption of class `label` (0–19) with some of `adjectives`, drawn from `generator`.
    public func caption(class label: Int, adjectives: [ImageAdjective],
                        using generator: inout SeededGenerator) -> String {
        precondition(label >= 0 && label < CaptionGenerator.nouns.count, "class \(label) outside 0..<\(CaptionGenerator.nouns.count)")
        func pick(_ n: Int) -> Int { Int(generator.next() % UInt64(n)) }
        let k = pick(min(CaptionGenerator.maximumAdjectives, adjectives.count) + 1)
        let order = generator.permutation(adjectives.count)
        let words = order.prefix(k).map { index -> String in
            let choices = CaptionGenerator.synonyms(of: adjectives[index])
            return choices[pick(choices.count)]
        }
        let glosses = classGlosses[label]
        var noun: Noun
        var detail: String? = nil
        if !glosses.isEmpty && pick(4) == 0 {
            noun = glosses[pick(glosses.count)]
        } else {
            noun = classNouns[label][pick(classNouns[label].count)]
            // `described` only: no draw is spent here for the other vocabularies, so their captions stay as they were.
            let details = classDetails[label]
            if !details.isEmpty && pick(2) == 0 {
                detail = details[pick(details.count)]
                let broader = classBroaderNames[label]
                if pick(3) == 0 { noun = broader[pick(broader.count)] }
            }
        }
        let template = classTemplates[pick(classTemplates.count)]
        return CaptionGenerator.render(template: template, noun: noun, adjectives: words, detail: detail)
    }

    /// A gloss without its leading article: the words every caption made from it contains.
    public static func glossNounHead(_ gloss: String) -> String { glossNoun(gloss).head }

    /// A gloss as a noun phrase: its leading "a"/"an" becomes the article, so
    /// that adjectives go after it ("a pale shoe consisting of…").
    static func glossNoun(_ gloss: String) -> Noun {
        for article in ["a ", "an "] where gloss.hasPrefix(article) {
            return Noun("a", String(gloss.dropFirst(article.count)))
        }
        return Noun("", gloss)
    }

    /// The plainest caption of class `label` (0–19): its first noun, no
    /// adjective, no template ("a t-shirt", "the digit seven").
    public static func plainCaption(class label: Int) -> String {
        precondition(label >= 0 && label < nouns.count, "class \(label) outside 0..<\(nouns.count)")
        return render(template: "{}", noun: nouns[label][0], adjectives: [])
    }

    /// `perImage` captions for every image of `data`, `[N][perImage]`.
    ///
    /// Image i draws from `SeededGenerator(seed: imageSeed(seed, i))`, so its
    /// captions depend only on the seed, its index, its class and its adjectives.
    public func captions(for data: ImageDataset, attributes: ImageAttributes, seed: UInt64,
                         perImage: Int) -> [[String]] {
        precondition(perImage > 0, "perImage must be positive")
        let labels = EvaluationClassifier.labels(of: data)
        let adjectives = attributes.adjectives(of: data)
        return labels.indices.map { i in
            var generator = SeededGenerator(seed: CaptionGenerator.imageSeed(seed, i))
            return (0..<perImage).map { _ in caption(class: labels[i], adjectives: adjectives[i], using: &generator) }
        }
    }

    /// The seed of image `index`'s generator: `seed ⊕ (index + 1)·φ64` (φ64 = 0x9E3779B97F4A7C15).
    public static func imageSeed(_ seed: UInt64, _ index: Int) -> UInt64 {
        seed ^ (UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Every caption the generator can produce for class `label`, over every
    /// possible adjective set (no adjective, or 1–2 of different properties in
    /// either order), every synonym, template and detail. (For the `described`
    /// vocabulary that is millions a class: test a text with `produces` instead.)
    public func allCaptions(class label: Int) -> Set<String> {
        let words = ImageAdjective.allCases.map { ($0.property, CaptionGenerator.synonyms(of: $0)) }
        var phrases: [[String]] = [[]]
        for (p1, first) in words {
            for w1 in first {
                phrases.append([w1])
                for (p2, second) in words where p2 != p1 {
                    for w2 in second { phrases.append([w1, w2]) }
                }
            }
        }
        var result = Set<String>()
        for template in classTemplates {
            for phrase in phrases {
                for noun in classNouns[label] + classGlosses[label] {
                    result.insert(CaptionGenerator.render(template: template, noun: noun, adjectives: phrase))
                }
                for detail in classDetails[label] {
                    for noun in classNouns[label] + classBroaderNames[label] {
                        result.insert(CaptionGenerator.render(template: template, noun: noun, adjectives: phrase, detail: detail))
                    }
                }
            }
        }
        return result
    }

    /// The noun phrase in the template, with "a" → "an" before a vowel or "8",
    /// and the detail ("with a hood") after the noun.
    static func render(template: String, noun: Noun, adjectives: [String], detail: String? = nil) -> String {
        var article = noun.article
        let next = adjectives.first ?? noun.head
        // "an" before a vowel sound ("an 8" too).
        if article == "a", let first = next.first, "aeiou8".contains(first) { article = "an" }
        if article == "an", let first = next.first, !"aeiou8".contains(first) { article = "a" }
        let phrase = ([article] + adjectives + [noun.head, detail ?? ""]).filter { !$0.isEmpty }.joined(separator: " ")
        return template.replacingOccurrences(of: "{}", with: phrase)
    }
}
