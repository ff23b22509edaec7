import Foundation

/// BERT's "basic" tokenisation: text → normalised words and punctuation marks,
/// before WordPiece splits them further.
///
/// Follows BERT (Devlin et al. 2019, `tokenization.py`) as the Hugging Face
/// `tokenizers` library runs it for an uncased model (`BertNormalizer` with
/// clean_text, handle_chinese_chars, strip_accents = lowercase = true, then
/// `BertPreTokenizer`), one Unicode scalar at a time:
/// 1. clean: drop U+0000, U+FFFD and control/format/private-use scalars
///    (categories Cc, Cf, Co, Cs, except tab, newline and return); map
///    whitespace (the Unicode White_Space property) to a space;
/// 2. put spaces around CJK ideographs, so that each is a word of its own;
/// 3. strip accents: canonical decomposition (NFD), then drop nonspacing
///    marks (Mn);
/// 4. lower-case each scalar by its full Unicode mapping (no context, so a
///    final capital sigma becomes σ, not ς: this is what `tokenizers` does,
///    unlike Python's `str.lower`);
/// 5. split on whitespace, and make every punctuation scalar a word of its own.
struct BasicTokenizer: Sendable {
    /// Whether to lower-case and strip accents (true for uncased models).
    var lowercase = true

    /// The words of `text`, normalised; none is empty.
    func words(_ text: String) -> [String] {
        words(normalized: normalize(text))
    }

    /// Step 5 alone: the words of text that `normalize` has already seen.
    func words(normalized text: String) -> [String] {
        var words: [String] = []
        var word = String.UnicodeScalarView()
        func endWord() {
            if !word.isEmpty {
                words.append(String(word))
                word.removeAll(keepingCapacity: true)
            }
        }
        for scalar in text.unicodeScalars {
            if scalar == " " || (!scalar.isASCII && scalar.properties.isWhitespace) {
                endWord()
            } else if Self.isPunctuation(scalar) {
                endWord()
                words.append(String(scalar))
            } else {
                word.append(scalar)
            }
        }
        endWord()
        return words
    }

    /// Steps 1–4: the normalised text, with words still separated by spaces.
    func normalize(_ text: String) -> String {
        var cleaned = String.UnicodeScalarView()
        var isASCII = true
        for scalar in text.unicodeScalars {
            if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
            if Self.isWhitespace(scalar) {
                cleaned.append(" ")
            } else if Self.isCJKIdeograph(scalar) {
                cleaned.append(" ")
                cleaned.append(scalar)
                cleaned.append(" ")
                isASCII = false
            } else {
                cleaned.append(scalar)
                isASCII = isASCII && scalar.isASCII
            }
        }
        guard lowercase else { return String(cleaned) }
        if isASCII { return String(cleaned).lowercased() }  // fast path; same result for ASCII
        var result = String.UnicodeScalarView()
        // Scalar by scalar: UnicodeScalarView.append(contentsOf:) is slow here.
        for scalar in Self.canonicalDecomposition(cleaned) where Self.category(of: scalar) != .nonspacingMark {
            if scalar.properties.changesWhenLowercased {
                for lower in scalar.properties.lowercaseMapping.unicodeScalars { result.append(lower) }
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// NFD as `tokenizers` does it: its tables leave U+11938 (DIVES AKURU
    /// VOWEL SIGN O, Unicode 13) whole.
    ///
    /// Foundation's NFD grows faster than linearly with the string, so the
    /// text is decomposed in chunks, cut only before scalars that NFD cannot
    /// reorder across: ASCII, U+11938, and (in long runs) letters of
    /// combining class 0, whose decompositions start with a starter.
    static func canonicalDecomposition(_ scalars: String.UnicodeScalarView) -> String.UnicodeScalarView {
        let keptWhole: Unicode.Scalar = "\u{11938}"
        var result = String.UnicodeScalarView()
        var chunk = String.UnicodeScalarView()
        func flush() {
            if !chunk.isEmpty {
                for scalar in String(chunk).decomposedStringWithCanonicalMapping.unicodeScalars { result.append(scalar) }
                chunk.removeAll(keepingCapacity: true)
            }
        }
        for scalar in scalars {
            if scalar.isASCII || scalar == keptWhole {
                flush()
                result.append(scalar)
            } else {
                if chunk.count >= 64 && scalar.properties.canonicalCombiningClass == .notReordered
                    && isLetter(scalar) {
                    flush()
                }
                chunk.append(scalar)
            }
        }
        flush()
        return result
    }

    private static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// Control characters in BERT's sense: categories Cc, Cf, Co and Cs, but
    /// not tab, newline and carriage return (those count as whitespace).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\r": return false
        default:
            switch category(of: scalar) {
            case .control, .format, .privateUse, .surrogate: return true
            default: return false
            }
        }
    }

    /// Whitespace in BERT's sense: tab, newline, return and the Unicode
    /// White_Space property (so U+00A0, U+2028, U+3000 split words).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// Punctuation in BERT's sense: every non-alphanumeric printable ASCII
    /// character (so `$`, `+`, `^`, `` ` `` count although Unicode calls
    /// them symbols) and every scalar of a Unicode category P*.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 33...47, 58...64, 91...96, 123...126: return true
        case 0..<128: return false
        default:
            switch category(of: scalar) {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                 .initialPunctuation, .finalPunctuation, .otherPunctuation:
                return true
            default:
                return false
            }
        }
    }

    /// The general category of `scalar` as `tokenizers` sees it: its
    /// category tables are those of Unicode 8.0, so a scalar assigned later is
    /// "unassigned" there — neither dropped, split off nor stripped, just part
    /// of a word — and a few scalars keep their Unicode 8.0 category. Checked against
    /// `tokenizers` 0.23.3 on every scalar (see the fixture script).
    static func category(of scalar: Unicode.Scalar) -> Unicode.GeneralCategory {
        switch scalar.value {
        case 0x166D, 0x111C9: return .otherPunctuation  // now So and Mn
        case 0x1734, 0x1171E: return .nonspacingMark  // now Mc
        case 0x1885, 0x1886: return .otherLetter  // now Mn
        case 0xA9BD: return .spacingMark  // now Mn
        default: break
        }
        guard let age = scalar.properties.age, age.major < 8 || (age.major == 8 && age.minor == 0) else {
            return .unassigned
        }
        return scalar.properties.generalCategory
    }

    /// The CJK Unified and Compatibility Ideograph blocks of BERT. Hangul,
    /// hiragana and katakana are not in them: those words split by WordPiece.
    /// Extension E starts at U+2B920 here, as in `tokenizers`
    /// (BERT's Python code has U+2B820).
    static func isCJKIdeograph(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
