import Foundation

/// The shape of a BERT encoder as `config.json` of a Hugging Face
/// `BertModel` states it (all-MiniLM-L6-v2: hidden 384, 6 layers, 12 heads,
/// FFN 1536, 512 positions, vocabulary 30522, 2 token types, LayerNorm ε 1e-12).
public struct MiniLMConfiguration: Equatable, Sendable {
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var vocabularySize: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float

    /// Width of one attention head, `hiddenSize / headCount`.
    public var headSize: Int { hiddenSize / headCount }

    public init(hiddenSize: Int = 384, layerCount: Int = 6, headCount: Int = 12, intermediateSize: Int = 1536,
                maxPositions: Int = 512, vocabularySize: Int = 30522, typeVocabularySize: Int = 2,
                layerNormEpsilon: Float = 1e-12) {
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.vocabularySize = vocabularySize
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// Reads and checks `config.json`; every problem names the file.
    public init(contentsOf url: URL) throws {
        let config = try ModelConfigFile(contentsOf: url)
        self.init(hiddenSize: try config.integer("hidden_size"), layerCount: try config.integer("num_hidden_layers"),
                  headCount: try config.integer("num_attention_heads"), intermediateSize: try config.integer("intermediate_size"),
                  maxPositions: try config.integer("max_position_embeddings"), vocabularySize: try config.integer("vocab_size"),
                  typeVocabularySize: try config.integer("type_vocab_size"))
        if let eps = try config.positiveNumber("layer_norm_eps") { layerNormEpsilon = eps }
        try config.checkEncoderLayers(hiddenSize: hiddenSize, headCount: headCount)
        let positions = try config.text("position_embedding_type", default: "absolute")
        guard positions == "absolute" else {
            throw config.error("position_embedding_type '\(positions)' is not supported (only 'absolute')")
        }
    }
}
