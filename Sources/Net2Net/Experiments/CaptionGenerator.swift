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
public struct CaptionGenerator: Sendable {
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

    public init() {}

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
        let nouns = CaptionGenerator.nouns[label]
        let noun = nouns[pick(nouns.count)]
        let template = CaptionGenerator.templates[pick(CaptionGenerator.templates.count)]
        return CaptionGenerator.render(template: template, noun: noun, adjectives: words)
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
    /// either order), every synonym and template.
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
        for template in CaptionGenerator.templates {
            for noun in CaptionGenerator.nouns[label] {
                for phrase in phrases {
                    result.insert(CaptionGenerator.render(template: template, noun: noun, adjectives: phrase))
                }
            }
        }
        return result
    }

    /// Every word the generator can use (lower case; see `words(of:)`).
    public func vocabulary() -> Set<String> {
        var words = Set<String>()
        for template in CaptionGenerator.templates { words.formUnion(CaptionGenerator.words(of: template)) }
        for noun in CaptionGenerator.nouns.joined() {
            words.formUnion(CaptionGenerator.words(of: noun.article + " " + noun.head + " an"))
        }
        for adjective in ImageAdjective.allCases {
            for synonym in CaptionGenerator.synonyms(of: adjective) { words.formUnion(CaptionGenerator.words(of: synonym)) }
        }
        return words
    }

    /// The lower-cased words of a text: maximal runs of letters and digits
    /// (so "t-shirt" is "t", "shirt" and punctuation is dropped).
    public static func words(of text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    /// The noun phrase in the template, with "a" → "an" before a vowel.
    static func render(template: String, noun: Noun, adjectives: [String]) -> String {
        var article = noun.article
        let next = adjectives.first ?? noun.head
        if article == "a", let first = next.first, "aeiou".contains(first) { article = "an" }
        if article == "an", let first = next.first, !"aeiou".contains(first) { article = "a" }
        let phrase = ([article] + adjectives + [noun.head]).filter { !$0.isEmpty }.joined(separator: " ")
        return template.replacingOccurrences(of: "{}", with: phrase)
    }
}
