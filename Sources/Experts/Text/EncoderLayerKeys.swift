/// The sizes of one post-LN transformer encoder layer (BERT, MPNet):
/// hidden D, heads H (D divisible by H), FFN width F and LayerNorm ε.
struct EncoderLayerShape {
    let hiddenSize: Int
    let headCount: Int
    let intermediateSize: Int
    let layerNormEpsilon: Float
}

/// The tensor names of one encoder layer, which differ between checkpoints
/// of the same maths; each is a prefix to which `.weight` and `.bias` are
/// appended.
struct EncoderLayerKeys {
    let query: String
    let key: String
    let value: String
    let attentionOutput: String
    let attentionNorm: String
    let intermediate: String
    let output: String
    let outputNorm: String

    /// Hugging Face's `BertModel`: `encoder.layer.N.attention.self.query`, ….
    static func bert(layer: Int) -> EncoderLayerKeys {
        let p = "encoder.layer.\(layer)"
        return EncoderLayerKeys(
            query: "\(p).attention.self.query", key: "\(p).attention.self.key", value: "\(p).attention.self.value",
            attentionOutput: "\(p).attention.output.dense", attentionNorm: "\(p).attention.output.LayerNorm",
            intermediate: "\(p).intermediate.dense", output: "\(p).output.dense", outputNorm: "\(p).output.LayerNorm")
    }

    /// Hugging Face's `MPNetModel`: `encoder.layer.N.attention.attn.q`, ….
    static func mpnet(layer: Int) -> EncoderLayerKeys {
        let p = "encoder.layer.\(layer)"
        return EncoderLayerKeys(
            query: "\(p).attention.attn.q", key: "\(p).attention.attn.k", value: "\(p).attention.attn.v",
            attentionOutput: "\(p).attention.attn.o", attentionNorm: "\(p).attention.LayerNorm",
            intermediate: "\(p).intermediate.dense", output: "\(p).output.dense", outputNorm: "\(p).output.LayerNorm")
    }
}

extension MiniLMConfiguration {
    /// The shape of each of its layers.
    var layerShape: EncoderLayerShape {
        EncoderLayerShape(hiddenSize: hiddenSize, headCount: headCount, intermediateSize: intermediateSize,
                          layerNormEpsilon: layerNormEpsilon)
    }
}
