import Layers

/// MPNet's input embeddings (RoBERTa's positions, no token types):
///
///     e_t = LayerNorm(word[id_t] + position[p_t])
///     p_t = P                                 if id_t = P (padding)
///     p_t = P + #{t' ≤ t : id_t' ≠ P}         otherwise
///
/// with P the padding index (1): real tokens take positions 2, 3, …, and a
/// `<pad>` token, even one written in the text, takes position 1 and is not
/// counted. Shapes: word `[vocab, D]`, position `[maxPositions, D]`, γ, β
/// `[D]`. Keys as in Hugging Face's `MPNetModel`.
struct MPNetEmbeddings {
    let configuration: MPNetConfiguration
    let word: FloatBuffer
    let position: FloatBuffer
    let normWeight: FloatBuffer
    let normBias: FloatBuffer

    init(_ weights: CheckedWeights, configuration c: MPNetConfiguration) throws {
        configuration = c
        let D = c.hiddenSize
        word = try weights.buffer("embeddings.word_embeddings.weight", [c.vocabularySize, D])
        position = try weights.buffer("embeddings.position_embeddings.weight", [c.maxPositions, D])
        normWeight = try weights.buffer("embeddings.LayerNorm.weight", [D])
        normBias = try weights.buffer("embeddings.LayerNorm.bias", [D])
    }

    /// Writes the embeddings of `tokenIDs` into `hidden` `[batch.rowTotal, D]`;
    /// padding rows get the padding token at the padding position.
    func forward(_ tokenIDs: [[Int32]], batch: SequenceBatch, into hidden: UnsafeMutablePointer<Float>) {
        let D = configuration.hiddenSize, P = configuration.paddingIndex
        for (s, ids) in tokenIDs.enumerated() {
            var counted = P
            for t in 0..<batch.rowCounts[s] {
                let id = t < ids.count ? Int(ids[t]) : P
                var p = P
                if id != P {
                    counted += 1
                    p = counted
                }
                let w = UnsafePointer(word.pointer + id * D)
                let q = UnsafePointer(position.pointer + p * D)
                let out = hidden + (batch.rowStarts[s] + t) * D
                for i in 0..<D { out[i] = w[i] + q[i] }
            }
        }
        LayerNormalization.apply(hidden, residual: nil, gamma: normWeight.pointer, beta: normBias.pointer,
                                 epsilon: configuration.layerNormEpsilon, rows: batch.rowTotal, width: D,
                                 into: hidden)
    }
}
