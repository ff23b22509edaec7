import Foundation
import TensorCore

/// The larger text expert: all-mpnet-base-v2 sentence embeddings (uncased
/// WordPiece with `<s> … </s>` → 12-layer MPNet → attention-mask mean
/// pooling → L2 normalisation), 768-d, from the published weights, with no
/// Python. Same use as ``TextExpert`` (MiniLM, 384-d).
public final class MPNetTextExpert: @unchecked Sendable {
    /// Width of an embedding.
    public static let dimension = 768
    /// Longest input in word pieces, specials included (sentence-transformers' max_seq_length).
    public static let defaultMaxLength = 384
    public let tokenizer: WordPieceTokenizer
    public let encoder: MPNetEncoder

    /// Loads the model from a folder holding model.safetensors, config.json
    /// and vocab.txt. Inputs longer than `maxLength` word pieces are truncated
    /// (the end token kept).
    ///
    /// - Throws: ``ExpertError/badAsset(path:problem:)`` naming the file for a
    ///   missing or malformed file, a vocabulary larger than the model's, or a
    ///   model whose width is not 768.
    public init(directory: URL, maxLength: Int = MPNetTextExpert.defaultMaxLength) throws {
        let vocabulary = directory.appendingPathComponent("vocab.txt")
        encoder = try MPNetEncoder(directory: directory)
        let c = encoder.configuration
        precondition(maxLength >= 2 && maxLength <= c.maximumTokens,
                     "maxLength must be in 2…\(c.maximumTokens), the model's positions")
        tokenizer = try WordPieceTokenizer(vocabulary: vocabulary, maxLength: maxLength, specialTokens: .mpnet)
        guard tokenizer.vocabularySize <= c.vocabularySize else {
            throw ExpertError.badAsset(path: vocabulary.path, problem: "has \(tokenizer.vocabularySize) tokens; the model has \(c.vocabularySize) embeddings")
        }
        guard Int(tokenizer.padID) == c.paddingIndex else {
            throw ExpertError.badAsset(path: vocabulary.path, problem: "<pad> has id \(tokenizer.padID); MPNet expects \(c.paddingIndex)")
        }
        guard c.hiddenSize == MPNetTextExpert.dimension else {
            throw ExpertError.badAsset(path: directory.appendingPathComponent("config.json").path,
                                       problem: "hidden_size is \(c.hiddenSize); this expert is the \(MPNetTextExpert.dimension)-d all-mpnet-base-v2")
        }
    }

    /// Loads the `mpnet` asset, fetching it into the store first if needed.
    public convenience init(store: AssetStore, progress: (String) -> Void = { _ in }) throws {
        try self.init(directory: try store.directory(for: "mpnet", progress: progress))
    }

    /// Sentence embeddings `[N, 768]`, unit length; an empty list gives `[0, 768]`.
    public func embed(_ sentences: [String]) -> Tensor {
        encoder.embed(tokenIDs: sentences.map { tokenizer.encode($0) })
    }
}
