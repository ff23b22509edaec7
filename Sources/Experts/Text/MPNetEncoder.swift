import Foundation
import TensorCore

/// The all-mpnet-base-v2 sentence encoder (Song et al. 2020, "MPNet: Masked
/// and Permuted Pre-training"; Reimers & Gurevych 2019, "Sentence-BERT"): a
/// 12-layer post-LN transformer with a relative position bias shared by all
/// layers, mean pooling over the real tokens, then L2 normalisation.
///
///     h⁰ = MPNetEmbeddings(ids),  hˡ = BERTLayer_l(hˡ⁻¹; bias),
///     bias_h(i, j) = table[bucket(j − i), h]                (RelativePositionBias)
///     z  = m / ‖m‖,  m = (1/n) Σ_{t < n} h¹²_t        → `[N, 768]`
///
/// Reads a Hugging Face / sentence-transformers folder: `config.json` and
/// `model.safetensors` (keys as `MPNetModel` names them; the unused pooler
/// is not read). Tokenisation (uncased WordPiece, `<s> … </s>`, ≤ 384 tokens
/// as sentence-transformers truncates) happens before `embed`; see
/// ``MPNetTextExpert``.
///
/// `embed` reuses its workspaces and is serialised by a lock
/// (``MeanPooledEncoder``); threading follows `ComputeThreads`.
public final class MPNetEncoder: @unchecked Sendable {
    // @unchecked: weights are immutable after init; the workspaces are guarded by `pooling`'s lock.
    public let configuration: MPNetConfiguration
    /// Output width, the hidden size (768).
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

    private let embeddings: MPNetEmbeddings
    private let layers: [BERTLayer]
    private let positionBias: RelativePositionBias
    private let pooling: MeanPooledEncoder

    /// Loads `directory/config.json` and `directory/model.safetensors`,
    /// checking every tensor's presence and shape.
    public init(directory: URL) throws {
        let c = try MPNetConfiguration(contentsOf: directory.appendingPathComponent("config.json"))
        let weights = try CheckedWeights(contentsOf: directory.appendingPathComponent("model.safetensors"))
        configuration = c
        embeddings = try MPNetEmbeddings(weights, configuration: c)
        layers = try (0..<c.layerCount).map { try BERTLayer(weights, keys: .mpnet(layer: $0), shape: c.layerShape) }
        let table = try weights.scalars("encoder.relative_attention_bias.weight", [c.relativeAttentionBuckets, c.headCount])
        positionBias = RelativePositionBias(table: table, bucketCount: c.relativeAttentionBuckets,
                                            maximumDistance: c.relativeAttentionMaxDistance, headCount: c.headCount,
                                            maximumLength: c.maximumTokens)
        pooling = MeanPooledEncoder(shape: c.layerShape)
    }

    /// Sentence embeddings `[N, 768]`, unit L2 norm, for token id sequences
    /// (each `<s> … </s>`, at most `configuration.maximumTokens` ids). An
    /// empty batch gives `[0, 768]`; an empty sequence gives a zero row.
    public func embed(tokenIDs: [[Int32]]) -> Tensor {
        pooling.embed(tokenIDs, maximumTokens: configuration.maximumTokens,
                      vocabularySize: configuration.vocabularySize) { ids, batch, workspace in
            embeddings.forward(ids, batch: batch, into: workspace.hidden.pointer)
            for layer in layers { layer.forward(batch: batch, workspace: workspace, positionBias: positionBias) }
        }
    }
}
