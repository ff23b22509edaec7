import Foundation

/// BERT's uncased WordPiece tokenizer: text → `[CLS] pieces… [SEP]` token ids
/// (`<s> pieces… </s>` with MPNet's ``WordPieceSpecialTokens``).
///
/// Text is cut at literal special tokens (with BERT's, `[CLS]`, `[SEP]`,
/// `[PAD]`, `[UNK]`, `[MASK]` written in the text stay single tokens, as in
/// Hugging Face), the rest is split into words by ``BasicTokenizer``, and
/// each word into the longest vocabulary pieces from the left, every piece
/// after the first written with the `##` prefix. A word that cannot be
/// covered by pieces, or has more than `maxInputCharactersPerWord` scalars,
/// becomes one unknown token (`[UNK]`).
///
/// Matches `tokenizers.Tokenizer` loaded from all-MiniLM-L6-v2's
/// `tokenizer.json` with truncation to 256 and no padding (the
/// sentence-transformers settings), on the sentences of
/// `Tests/ExpertsTests/Fixtures/minilm_tokens.json`, and all-mpnet-base-v2's
/// with truncation to 384 on those of `mpnet_embeddings.json`.
public struct WordPieceTokenizer: Sendable {
    /// Most tokens `encode` returns, specials included.
    public let maxLength: Int
    /// Words longer than this (in Unicode scalars) become `[UNK]`.
    public let maxInputCharactersPerWord = 100
    /// The first token of every sequence (`[CLS]`, or `<s>` for MPNet).
    public let clsID: Int32
    /// The last token of every sequence (`[SEP]`, or `</s>` for MPNet).
    public let sepID: Int32
    public let padID: Int32
    public let unknownID: Int32
    /// The mask token (`[MASK]`, `<mask>`), where the vocabulary has one.
    public let maskID: Int32?
    /// Number of lines in the vocabulary file (the largest id plus one).
    public let vocabularySize: Int

    private let vocabulary: [String: Int32]
    /// Longest vocabulary entry in scalars: no piece can be longer.
    private let longestPiece: Int
    /// Special tokens that are matched verbatim in the input text.
    private let specialTokens: SpecialTokenMatcher
    /// The text of `unknownID`.
    private let unknownToken: String
    /// Special tokens matched in the normalised text.
    private let normalizedSpecialTokens: SpecialTokenMatcher
    private let basic = BasicTokenizer()
    private static let continuationPrefix = "##"

    /// Reads a BERT `vocab.txt`: one token per line, the id is the line number.
    ///
    /// - Throws: ``ExpertError/badAsset(path:problem:)`` when the file cannot
    ///   be read, is empty, or lacks one of the begin, end, unknown and
    ///   padding tokens of `specialTokens`.
    public init(vocabulary url: URL, maxLength: Int = 256, specialTokens special: WordPieceSpecialTokens = .bert) throws {
        precondition(maxLength >= 2, "maxLength must leave room for the begin and end tokens")
        let text: String
        do {
            let data = try Data(contentsOf: url)
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw ExpertError.badAsset(path: url.path, problem: "the vocabulary is not UTF-8 text")
            }
            text = decoded
        } catch let error as ExpertError {
            throw error
        } catch {
            throw ExpertError.badAsset(path: url.path, problem: "cannot read the vocabulary: \(error.localizedDescription)")
        }
        // Split on the scalar "\n": as Characters, "\r\n" would be one grapheme.
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }  // the newline that ends the file
        guard !lines.isEmpty else {
            throw ExpertError.badAsset(path: url.path, problem: "the vocabulary is empty")
        }
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(lines.count)
        var longestPiece = 0
        for (index, line) in lines.enumerated() {
            let token = String(line.last == "\r" ? line.dropLast() : line)
            vocabulary[token] = Int32(index)  // a repeated token keeps its last line, as in Hugging Face
            longestPiece = max(longestPiece, token.unicodeScalars.count)
        }
        func id(_ token: String) throws -> Int32 {
            guard let id = vocabulary[token] else {
                throw ExpertError.badAsset(path: url.path,
                                           problem: "the vocabulary has no \(token) token; is this the model's vocab.txt?")
            }
            return id
        }
        clsID = try id(special.begin)
        sepID = try id(special.end)
        unknownID = try id(special.unknown)
        padID = try id(special.padding)
        maskID = vocabulary[special.mask]
        unknownToken = special.unknown
        self.maxLength = maxLength
        self.vocabulary = vocabulary
        self.vocabularySize = lines.count
        self.longestPiece = longestPiece
        self.specialTokens = SpecialTokenMatcher(special.verbatim, vocabulary: vocabulary)
        self.normalizedSpecialTokens = SpecialTokenMatcher(special.verbatimWhenNormalized, vocabulary: vocabulary)
    }

    /// The id of `token`, or nil when it is not in the vocabulary.
    public func id(of token: String) -> Int32? { vocabulary[token] }

    /// The word pieces of `text`, without the begin and end tokens and untruncated.
    public func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        forEachPiece(of: text) { piece, _ in tokens.append(piece ?? unknownToken) }
        return tokens
    }

    /// `[CLS]`, the ids of the word pieces of `text`, `[SEP]` (`<s>` and `</s>`
    /// for MPNet); the pieces are cut so that the whole has at most
    /// `maxLength` ids, the end token last.
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [clsID]
        forEachPiece(of: text) { _, id in ids.append(id) }
        if ids.count > maxLength - 1 { ids.removeLast(ids.count - (maxLength - 1)) }
        ids.append(sepID)
        return ids
    }

    /// Encodes each text and pads to the longest with the padding token.
    ///
    /// - Returns: `ids` and `attentionMask`, both `[batch][length]`; the mask
    ///   is 1 at real tokens and 0 at padding.
    public func encode(batch texts: [String]) -> (ids: [[Int32]], attentionMask: [[Int32]]) {
        let encoded = texts.map(encode)
        let length = encoded.map(\.count).max() ?? 0
        let ids = encoded.map { $0 + Array(repeating: padID, count: length - $0.count) }
        let mask = encoded.map {
            Array(repeating: Int32(1), count: $0.count) + Array(repeating: 0, count: length - $0.count)
        }
        return (ids, mask)
    }

    /// Calls `body` with every piece of `text` and its id (piece nil for `[UNK]`).
    private func forEachPiece(of text: String, _ body: (String?, Int32) -> Void) {
        for segment in Self.split(text.unicodeScalars[...], at: specialTokens) {
            switch segment {
            case .special(let token, let id):
                body(token, id)
            case .text(let text) where normalizedSpecialTokens.tokens.isEmpty:
                for word in basic.words(String(text)) { wordPieces(of: word, body) }
            case .text(let text):
                let normalized = basic.normalize(String(text))
                for part in Self.split(normalized.unicodeScalars[...], at: normalizedSpecialTokens) {
                    switch part {
                    case .special(let token, let id): body(token, id)
                    case .text(let rest): for word in basic.words(normalized: String(rest)) { wordPieces(of: word, body) }
                    }
                }
            }
        }
    }

    /// Greedy longest-match-first WordPiece split of one normalised word.
    ///
    /// Each step tries the longest candidate first; candidates are at most
    /// `longestPiece` scalars, so a word of n scalars costs O(n · longestPiece)
    /// lookups.
    private func wordPieces(of word: String, _ body: (String?, Int32) -> Void) {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count <= maxInputCharactersPerWord else { return body(nil, unknownID) }
        var pieces: [(String, Int32)] = []
        var start = 0
        while start < scalars.count {
            var end = min(scalars.count, start + longestPiece)
            var match: (String, Int32)?
            while end > start {
                var candidate = start > 0 ? Self.continuationPrefix : ""
                for scalar in scalars[start..<end] { candidate.unicodeScalars.append(scalar) }
                if let id = vocabulary[candidate] {
                    match = (candidate, id)
                    break
                }
                end -= 1
            }
            guard let found = match else { return body(nil, unknownID) }
            pieces.append(found)
            start = end
        }
        for (piece, id) in pieces { body(piece, id) }
    }

    /// Special tokens (those in the vocabulary) and the scalars they start with.
    private struct SpecialTokenMatcher: Sendable {
        let tokens: [(text: String, id: Int32)]
        /// A short array: for one or two scalars a scan beats hashing.
        let openers: [Unicode.Scalar]

        init(_ texts: [String], vocabulary: [String: Int32]) {
            tokens = texts.compactMap { token in vocabulary[token].map { (token, $0) } }
            var openers: [Unicode.Scalar] = []
            for (text, _) in tokens {
                if let first = text.unicodeScalars.first, !openers.contains(first) { openers.append(first) }
            }
            self.openers = openers
        }
    }

    private enum Segment {
        case text(Substring.UnicodeScalarView)
        case special(String, Int32)
    }

    /// Cuts `text` at verbatim occurrences of `specials` (compared scalar by
    /// scalar, so a combining mark after `]` does not hide a match).
    private static func split(_ text: Substring.UnicodeScalarView, at specials: SpecialTokenMatcher) -> [Segment] {
        var rest = text
        let openers = specials.openers
        guard rest.contains(where: openers.contains) else { return [.text(rest)] }
        var segments: [Segment] = []
        var searchFrom = rest.startIndex
        while let open = rest[searchFrom...].firstIndex(where: openers.contains) {
            let tail = rest[open...]
            if let (token, id) = specials.tokens.first(where: { tail.starts(with: $0.text.unicodeScalars) }) {
                if open > rest.startIndex { segments.append(.text(rest[..<open])) }
                segments.append(.special(token, id))
                rest = tail.dropFirst(token.unicodeScalars.count)
                searchFrom = rest.startIndex
            } else {
                searchFrom = rest.index(after: open)
            }
        }
        if !rest.isEmpty { segments.append(.text(rest)) }
        return segments
    }
}
