import Layers
import TensorCore

/// One post-LN BERT transformer layer:
///
///     a = LayerNorm(x + Attention(x))
///     y = LayerNorm(a + gelu(a·W_1ᵀ + b_1)·W_2ᵀ + b_2)
///
/// Shapes: x, a, y `[R, D]`; W_1 `[F, D]`, W_2 `[D, F]` (PyTorch layout).
/// Keys `encoder.layer.N.{attention,intermediate,output}.*` as in `BertModel`.
struct BERTLayer {
    let configuration: MiniLMConfiguration
    let attention: BERTSelfAttention
    let attentionNormWeight: FloatBuffer
    let attentionNormBias: FloatBuffer
    let intermediateWeight: FloatBuffer
    let intermediateBias: FloatBuffer
    let outputWeight: FloatBuffer
    let outputBias: FloatBuffer
    let outputNormWeight: FloatBuffer
    let outputNormBias: FloatBuffer

    init(_ weights: CheckedWeights, index: Int, configuration c: MiniLMConfiguration) throws {
        configuration = c
        let D = c.hiddenSize, F = c.intermediateSize
        let prefix = "encoder.layer.\(index)"
        attention = try BERTSelfAttention(weights, prefix: "\(prefix).attention", configuration: c)
        attentionNormWeight = try weights.buffer("\(prefix).attention.output.LayerNorm.weight", [D])
        attentionNormBias = try weights.buffer("\(prefix).attention.output.LayerNorm.bias", [D])
        intermediateWeight = try weights.transposedBuffer("\(prefix).intermediate.dense.weight", [F, D])
        intermediateBias = try weights.buffer("\(prefix).intermediate.dense.bias", [F])
        outputWeight = try weights.transposedBuffer("\(prefix).output.dense.weight", [D, F])
        outputBias = try weights.buffer("\(prefix).output.dense.bias", [D])
        outputNormWeight = try weights.buffer("\(prefix).output.LayerNorm.weight", [D])
        outputNormBias = try weights.buffer("\(prefix).output.LayerNorm.bias", [D])
    }

    /// Transforms `workspace.hidden` in place.
    func forward(batch: SequenceBatch, workspace w: EncoderWorkspace) {
        let D = configuration.hiddenSize, F = configuration.intermediateSize, R = batch.rowTotal
        let eps = configuration.layerNormEpsilon
        let x = w.hidden.pointer
        attention.forward(batch: batch, workspace: w)
        LayerNormalization.apply(w.projected.pointer, residual: x, gamma: attentionNormWeight.pointer,
                                 beta: attentionNormBias.pointer, epsilon: eps, rows: R, width: D, into: x)
        Linear.affine(x, ldx: D, batch: R, weight: intermediateWeight.pointer, bias: intermediateBias.pointer,
                      inputDimension: D, outputDimension: F, storedTransposed: true, into: w.intermediate.pointer, ldy: F)
        GELU.apply(w.intermediate.pointer, count: R * F)
        Linear.affine(w.intermediate.pointer, ldx: F, batch: R, weight: outputWeight.pointer, bias: outputBias.pointer,
                      inputDimension: F, outputDimension: D, storedTransposed: true, into: w.projected.pointer, ldy: D)
        LayerNormalization.apply(w.projected.pointer, residual: x, gamma: outputNormWeight.pointer,
                                 beta: outputNormBias.pointer, epsilon: eps, rows: R, width: D, into: x)
    }
}
