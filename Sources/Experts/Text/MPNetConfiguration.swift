import Foundation

/// The shape of an MPNet encoder as `config.json` of a Hugging Face
/// `MPNetModel` states it (all-mpnet-base-v2: hidden 768, 12 layers, 12
/// heads, FFN 3072, 514 positions, vocabulary 30527, LayerNorm ε 1e-5, 32
/// relative attention buckets).
///
/// Positions follow RoBERTa: the padding index (1) is position 1 and the
/// real tokens take 2, 3, …, so a sequence holds at most
/// `maxPositions − 2` tokens. The relative bias's maximum distance (128) is
/// fixed in `MPNetModel`, not part of the file.
public struct MPNetConfiguration: Equatable, Sendable {
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var vocabularySize: Int
    public var layerNormEpsilon: Float
    public var relativeAttentionBuckets: Int
    public var relativeAttentionMaxDistance: Int
    /// The padding token's id and position (1, fixed in `MPNetEmbeddings`).
    public var paddingIndex: Int

    /// Width of one attention head, `hiddenSize / headCount`.
    public var headSize: Int { hiddenSize / headCount }
    /// Most tokens in a sequence, specials included: positions run from
    /// `paddingIndex + 1` to `maxPositions − 1`.
    public var maximumTokens: Int { maxPositions - paddingIndex - 1 }

    public init(hiddenSize: Int = 768, layerCount: Int = 12, headCount: Int = 12, intermediateSize: Int = 3072,
                maxPositions: Int = 514, vocabularySize: Int = 30527, layerNormEpsilon: Float = 1e-5,
                relativeAttentionBuckets: Int = 32, relativeAttentionMaxDistance: Int = 128, paddingIndex: Int = 1) {
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.vocabularySize = vocabularySize
        self.layerNormEpsilon = layerNormEpsilon
        self.relativeAttentionBuckets = relativeAttentionBuckets
        self.relativeAttentionMaxDistance = relativeAttentionMaxDistance
        self.paddingIndex = paddingIndex
    }

    /// Reads and checks `config.json`; every problem names the file.
    public init(contentsOf url: URL) throws {
        let config = try ModelConfigFile(contentsOf: url)
        let type = try config.text("model_type", default: "mpnet")
        guard type == "mpnet" else { throw config.error("model_type '\(type)' is not 'mpnet'") }
        self.init(hiddenSize: try config.integer("hidden_size"), layerCount: try config.integer("num_hidden_layers"),
                  headCount: try config.integer("num_attention_heads"), intermediateSize: try config.integer("intermediate_size"),
                  maxPositions: try config.integer("max_position_embeddings", minimum: 3),
                  vocabularySize: try config.integer("vocab_size", minimum: 3),
                  relativeAttentionBuckets: try config.integer("relative_attention_num_buckets", minimum: 4, default: 32))
        if let eps = try config.positiveNumber("layer_norm_eps") { layerNormEpsilon = eps }
        try config.checkEncoderLayers(hiddenSize: hiddenSize, headCount: headCount)
        guard relativeAttentionBuckets % 4 == 0 else {
            throw config.error("relative_attention_num_buckets \(relativeAttentionBuckets) is not a multiple of 4")
        }
    }

    /// The shape of each of its layers.
    var layerShape: EncoderLayerShape {
        EncoderLayerShape(hiddenSize: hiddenSize, headCount: headCount, intermediateSize: intermediateSize,
                          layerNormEpsilon: layerNormEpsilon)
    }
}
