import Layers

/// BERT's input embeddings:
/// `e = LayerNorm(word[id] + tokenType[0] + position[p])`, p the index in the sequence.
///
/// Shapes: word `[vocab, D]`, position `[maxPositions, D]`, tokenType
/// `[typeVocab, D]` (only type 0 is used, as sentence-transformers does for
/// single sentences), γ, β `[D]`. Keys as in Hugging Face's `BertModel`.
struct BERTEmbeddings {
    let configuration: MiniLMConfiguration
    let word: FloatBuffer
    let position: FloatBuffer
    let tokenType: FloatBuffer
    let normWeight: FloatBuffer
    let normBias: FloatBuffer

    init(_ weights: CheckedWeights, configuration c: MiniLMConfiguration) throws {
        configuration = c
        let D = c.hiddenSize
        word = try weights.buffer("embeddings.word_embeddings.weight", [c.vocabularySize, D])
        position = try weights.buffer("embeddings.position_embeddings.weight", [c.maxPositions, D])
        tokenType = try weights.buffer("embeddings.token_type_embeddings.weight", [c.typeVocabularySize, D])
        normWeight = try weights.buffer("embeddings.LayerNorm.weight", [D])
        normBias = try weights.buffer("embeddings.LayerNorm.bias", [D])
    }

    /// Writes the embeddings of `tokenIDs` into `hidden` `[batch.rowTotal, D]`;
    /// padding rows get the [PAD] (id 0) embedding at their position.
    func forward(_ tokenIDs: [[Int32]], batch: SequenceBatch, into hidden: UnsafeMutablePointer<Float>) {
        let D = configuration.hiddenSize
        let type0 = UnsafePointer(tokenType.pointer)
        for (s, ids) in tokenIDs.enumerated() {
            for p in 0..<batch.rowCounts[s] {
                let id = p < ids.count ? Int(ids[p]) : 0
                let w = UnsafePointer(word.pointer + id * D)
                let q = UnsafePointer(position.pointer + p * D)
                let out = hidden + (batch.rowStarts[s] + p) * D
                // Same summation order as PyTorch: (word + type) + position.
                for i in 0..<D { out[i] = (w[i] + type0[i]) + q[i] }
            }
        }
        LayerNormalization.apply(hidden, residual: nil, gamma: normWeight.pointer, beta: normBias.pointer,
                                 epsilon: configuration.layerNormEpsilon, rows: batch.rowTotal, width: D,
                                 into: hidden)
    }
}
