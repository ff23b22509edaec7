import Foundation
import TensorCore

/// The text expert Φ: all-MiniLM-L6-v2 sentence embeddings (BERT uncased
/// WordPiece → 6-layer BERT → attention-mask mean pooling → L2
/// normalisation), from the published weights, with no Python.
public final class TextExpert: @unchecked Sendable {
    /// Width of an embedding.
    public static let dimension = 384
    public let tokenizer: WordPieceTokenizer
    public let encoder: MiniLMEncoder

    /// Loads the model from a folder holding model.safetensors, config.json and vocab.txt.
    /// Inputs longer than `maxLength` word pieces (default 256, as
    /// sentence-transformers uses for this model) are truncated.
    public init(directory: URL, maxLength: Int = 256) throws {
        tokenizer = try WordPieceTokenizer(vocabulary: directory.appendingPathComponent("vocab.txt"), maxLength: maxLength)
        encoder = try MiniLMEncoder(directory: directory)
    }

    /// Loads the `minilm` asset, fetching it into the store first if needed.
    public convenience init(store: AssetStore, progress: (String) -> Void = { _ in }) throws {
        try self.init(directory: try store.directory(for: "minilm", progress: progress))
    }

    /// Sentence embeddings `[N, 384]`, unit length; an empty list gives `[0, 384]`.
    public func embed(_ sentences: [String]) -> Tensor {
        encoder.embed(tokenIDs: sentences.map { tokenizer.encode($0) })
    }
}
