import Foundation
import TensorCore

/// The all-MiniLM-L6-v2 sentence encoder (Wang et al. 2020, "MiniLM";
/// Reimers & Gurevych 2019, "Sentence-BERT"): a 6-layer post-LN BERT,
/// mean pooling over the real tokens, then L2 normalisation.
///
///     h⁰ = Embeddings(ids),  hˡ = BERTLayer_l(hˡ⁻¹),
///     z  = m / ‖m‖,  m = (1/n) Σ_{t < n} h⁶_t        → `[N, 384]`
///
/// Reads a Hugging Face / sentence-transformers folder: `config.json` and
/// `model.safetensors` (memory-mapped; keys as `BertModel` names them).
/// Tokenisation (uncased WordPiece, `[CLS] … [SEP]`, ≤ 256 tokens as
/// sentence-transformers truncates) happens before `embed`.
///
/// `embed` reuses its workspaces and is serialised by a lock
/// (``MeanPooledEncoder``); threading follows `ComputeThreads` (BLAS
/// threads for GEMMs, `Parallel` for the row-wise kernels, one task per
/// head for attention).
public final class MiniLMEncoder: @unchecked Sendable {
    // @unchecked: weights are immutable after init; the workspaces are guarded by `pooling`'s lock.
    public let configuration: MiniLMConfiguration
    /// Output width, the hidden size (384).
    public var dimension: Int { configuration.hiddenSize }
    /// Sequences per internal pass; longer inputs are split (bounds workspace size).
    public var maximumBatch: Int { pooling.maximumBatch }

    /// Whether a batch runs padded to its longest sequence with masked keys
    /// (as PyTorch does) or packed without padding. Same results; packed
    /// skips the work on padding.
    public var padsBatches: Bool {
        get { pooling.padsBatches }
        set { pooling.padsBatches = newValue }
    }

    private let embeddings: BERTEmbeddings
    private let layers: [BERTLayer]
    private let pooling: MeanPooledEncoder

    /// Loads `directory/config.json` and `directory/model.safetensors`,
    /// checking every tensor's presence and shape.
    public init(directory: URL) throws {
        let c = try MiniLMConfiguration(contentsOf: directory.appendingPathComponent("config.json"))
        let weights = try CheckedWeights(contentsOf: directory.appendingPathComponent("model.safetensors"))
        configuration = c
        embeddings = try BERTEmbeddings(weights, configuration: c)
        layers = try (0..<c.layerCount).map { try BERTLayer(weights, keys: .bert(layer: $0), shape: c.layerShape) }
        pooling = MeanPooledEncoder(shape: c.layerShape)
    }

    /// Sentence embeddings `[N, 384]`, unit L2 norm, for token id sequences
    /// (each `[CLS] … [SEP]`, at most `maxPositions` ids). An empty batch
    /// gives `[0, 384]`; an empty sequence gives a zero row.
    public func embed(tokenIDs: [[Int32]]) -> Tensor {
        pooling.embed(tokenIDs, maximumTokens: configuration.maxPositions,
                      vocabularySize: configuration.vocabularySize) { ids, batch, workspace in
            embeddings.forward(ids, batch: batch, into: workspace.hidden.pointer)
            for layer in layers { layer.forward(batch: batch, workspace: workspace) }
        }
    }
}
