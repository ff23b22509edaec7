/// The special tokens of a WordPiece vocabulary: what wraps a sequence,
/// what pads it, what stands for a word that cannot be covered, and which
/// tokens written in the text are kept whole.
///
/// BERT wraps as `[CLS] … [SEP]`; MPNet (RoBERTa's convention) as
/// `<s> … </s>`, pads with `<pad>` (id 1) but keeps BERT's `[UNK]` for
/// unknown words. Tokens in `verbatim` are cut out of the raw text before
/// normalisation; those in `verbatimWhenNormalized` are cut out of the
/// lower-cased, accent-stripped text (Hugging Face's added tokens with
/// `normalized: true`, e.g. MPNet's `<unk>`, so `<UNK>` matches too).
public struct WordPieceSpecialTokens: Sendable, Equatable {
    /// First token of every sequence (`[CLS]`, `<s>`).
    public var begin: String
    /// Last token of every sequence (`[SEP]`, `</s>`).
    public var end: String
    /// Padding (`[PAD]`, `<pad>`).
    public var padding: String
    /// A word WordPiece cannot cover (`[UNK]`).
    public var unknown: String
    /// The mask token, where the vocabulary has one (`[MASK]`, `<mask>`).
    public var mask: String
    /// Kept whole when written in the raw text.
    public var verbatim: [String]
    /// Kept whole when they appear in the normalised text.
    public var verbatimWhenNormalized: [String]

    public init(begin: String, end: String, padding: String, unknown: String, mask: String,
                verbatim: [String], verbatimWhenNormalized: [String] = []) {
        self.begin = begin
        self.end = end
        self.padding = padding
        self.unknown = unknown
        self.mask = mask
        self.verbatim = verbatim
        self.verbatimWhenNormalized = verbatimWhenNormalized
    }

    /// BERT uncased (all-MiniLM-L6-v2): `[CLS] … [SEP]`, `[PAD]`, `[UNK]`, `[MASK]`.
    public static let bert = WordPieceSpecialTokens(
        begin: "[CLS]", end: "[SEP]", padding: "[PAD]", unknown: "[UNK]", mask: "[MASK]",
        verbatim: ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"])

    /// MPNet (all-mpnet-base-v2's `tokenizer.json`): `<s> … </s>` (ids 0 and
    /// 2), `<pad>` (1), `[UNK]` for unknown words, `<mask>`; `<unk>` (3) is
    /// matched after lower-casing.
    public static let mpnet = WordPieceSpecialTokens(
        begin: "<s>", end: "</s>", padding: "<pad>", unknown: "[UNK]", mask: "<mask>",
        verbatim: ["<s>", "<pad>", "</s>", "[UNK]", "<mask>"], verbatimWhenNormalized: ["<unk>"])
}
