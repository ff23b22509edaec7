import Foundation

/// Recognising the generator's captions: which texts it can draw, and which
/// words it uses. Held-out prompts are kept out of the training captions with
/// these, without listing the millions of captions.
extension CaptionGenerator {
    /// Whether `text` is, up to case and punctuation (compared as `words(of:)`),
    /// a caption this generator can draw for some class: a parser of the
    /// space `allCaptions` enumerates, with "a" and "an" taken as the same
    /// word.
    public func produces(_ text: String) -> Bool {
        let target = CaptionGenerator.words(of: text)
        for template in classTemplates {
            let parts = template.components(separatedBy: "{}")
            let prefix = CaptionGenerator.words(of: parts[0]), suffix = CaptionGenerator.words(of: parts[1])
            guard target.count >= prefix.count + suffix.count, target.starts(with: prefix),
                  target.suffix(suffix.count).elementsEqual(suffix) else { continue }
            let middle = Array(target[prefix.count ..< target.count - suffix.count])
            for label in classNouns.indices {
                if isNounPhrase(middle, nouns: classNouns[label] + classGlosses[label]) { return true }
                // A detail follows a name or a broader name of its own class.
                for detail in classDetails[label] {
                    let words = CaptionGenerator.words(of: detail)
                    guard middle.count > words.count, middle.suffix(words.count).elementsEqual(words) else { continue }
                    if isNounPhrase(Array(middle.dropLast(words.count)), nouns: classNouns[label] + classBroaderNames[label]) {
                        return true
                    }
                }
            }
        }
        return false
    }

    /// Whether `words` are an article, 0–2 adjective synonyms and the head of one of `nouns`.
    func isNounPhrase(_ words: [String], nouns: [Noun]) -> Bool {
        for noun in nouns {
            let head = CaptionGenerator.words(of: noun.head)
            guard words.count >= head.count, words.suffix(head.count).elementsEqual(head) else { continue }
            var rest = words.dropLast(head.count)
            if noun.article == "a" || noun.article == "an" {
                guard let first = rest.first, first == "a" || first == "an" else { continue }
                rest = rest.dropFirst()
            } else {
                let article = CaptionGenerator.words(of: noun.article)
                guard rest.starts(with: article) else { continue }
                rest = rest.dropFirst(article.count)
            }
            if CaptionGenerator.isAdjectivePhrase(Array(rest), excluding: []) { return true }
        }
        return false
    }

    /// Whether `words` are 0–2 adjective synonyms of different properties, in any order.
    static func isAdjectivePhrase(_ words: [String], excluding used: [ImageProperty]) -> Bool {
        if words.isEmpty { return true }
        guard used.count < maximumAdjectives else { return false }
        for adjective in ImageAdjective.allCases where !used.contains(adjective.property) {
            for synonym in synonyms(of: adjective) {
                let w = CaptionGenerator.words(of: synonym)
                if words.starts(with: w), isAdjectivePhrase(Array(words.dropFirst(w.count)), excluding: used + [adjective.property]) {
                    return true
                }
            }
        }
        return false
    }

    /// Every word the generator can use (lower case; see `words(of:)`).
    public func allWords() -> Set<String> {
        var words = Set<String>()
        for template in classTemplates { words.formUnion(CaptionGenerator.words(of: template)) }
        for noun in (classNouns + classGlosses + classBroaderNames).joined() {
            words.formUnion(CaptionGenerator.words(of: noun.article + " " + noun.head + " an"))
        }
        for detail in classDetails.joined() { words.formUnion(CaptionGenerator.words(of: detail)) }
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
}
