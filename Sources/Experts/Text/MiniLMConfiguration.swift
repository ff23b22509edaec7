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
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ExpertError.badAsset(path: url.path, problem: "cannot read the model config (\(error.localizedDescription))")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
            throw ExpertError.badAsset(path: url.path, problem: "not a JSON object")
        }
        func integer(_ key: String) throws -> Int {
            guard let value = json[key] as? NSNumber, value.doubleValue == value.doubleValue.rounded(),
                  value.intValue > 0 else {
                throw ExpertError.badAsset(path: url.path, problem: "'\(key)' is missing or not a positive integer")
            }
            return value.intValue
        }
        func text(_ key: String, default fallback: String) throws -> String {
            guard let value = json[key] else { return fallback }
            guard let string = value as? String else {
                throw ExpertError.badAsset(path: url.path, problem: "'\(key)' is not a string")
            }
            return string
        }
        self.init(hiddenSize: try integer("hidden_size"), layerCount: try integer("num_hidden_layers"),
                  headCount: try integer("num_attention_heads"), intermediateSize: try integer("intermediate_size"),
                  maxPositions: try integer("max_position_embeddings"), vocabularySize: try integer("vocab_size"),
                  typeVocabularySize: try integer("type_vocab_size"))
        if let eps = json["layer_norm_eps"] {
            guard let number = eps as? NSNumber, number.doubleValue > 0 else {
                throw ExpertError.badAsset(path: url.path, problem: "'layer_norm_eps' is not a positive number")
            }
            layerNormEpsilon = number.floatValue
        }
        guard hiddenSize % headCount == 0 else {
            throw ExpertError.badAsset(path: url.path,
                                       problem: "hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(headCount)")
        }
        let activation = try text("hidden_act", default: "gelu")
        guard activation == "gelu" else {
            throw ExpertError.badAsset(path: url.path, problem: "hidden_act '\(activation)' is not supported (only exact 'gelu')")
        }
        let positions = try text("position_embedding_type", default: "absolute")
        guard positions == "absolute" else {
            throw ExpertError.badAsset(path: url.path,
                                       problem: "position_embedding_type '\(positions)' is not supported (only 'absolute')")
        }
    }
}
