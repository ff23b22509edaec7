import Layers
import TensorCore

/// One post-LN BERT transformer layer (MPNet's is the same, with a
/// relative position bias in the attention scores):
///
///     a = LayerNorm(x + Attention(x))
///     y = LayerNorm(a + gelu(a·W_1ᵀ + b_1)·W_2ᵀ + b_2)
///
/// Shapes: x, a, y `[R, D]`; W_1 `[F, D]`, W_2 `[D, F]` (PyTorch layout).
/// Keys `encoder.layer.N.{attention,intermediate,output}.*` as in `BertModel`
/// or `MPNetModel` (``EncoderLayerKeys``).
struct BERTLayer {
    let shape: EncoderLayerShape
    let attention: BERTSelfAttention
    let attentionNormWeight: FloatBuffer
    let attentionNormBias: FloatBuffer
    let intermediateWeight: FloatBuffer
    let intermediateBias: FloatBuffer
    let outputWeight: FloatBuffer
    let outputBias: FloatBuffer
    let outputNormWeight: FloatBuffer
    let outputNormBias: FloatBuffer

    init(_ weights: CheckedWeights, keys: EncoderLayerKeys, shape: EncoderLayerShape) throws {
        self.shape = shape
        let D = shape.hiddenSize, F = shape.intermediateSize
        attention = try BERTSelfAttention(weights, keys: keys, shape: shape)
        attentionNormWeight = try weights.buffer("\(keys.attentionNorm).weight", [D])
        attentionNormBias = try weights.buffer("\(keys.attentionNorm).bias", [D])
        intermediateWeight = try weights.transposedBuffer("\(keys.intermediate).weight", [F, D])
        intermediateBias = try weights.buffer("\(keys.intermediate).bias", [F])
        outputWeight = try weights.transposedBuffer("\(keys.output).weight", [D, F])
        outputBias = try weights.buffer("\(keys.output).bias", [D])
        outputNormWeight = try weights.buffer("\(keys.outputNorm).weight", [D])
        outputNormBias = try weights.buffer("\(keys.outputNorm).bias", [D])
    }

    /// Transforms `workspace.hidden` in place; `positionBias` (MPNet) is
    /// added to the attention scores of every head.
    func forward(batch: SequenceBatch, workspace w: EncoderWorkspace, positionBias: RelativePositionBias? = nil) {
        let D = shape.hiddenSize, F = shape.intermediateSize, R = batch.rowTotal
        let eps = shape.layerNormEpsilon
        let x = w.hidden.pointer
        attention.forward(batch: batch, workspace: w, positionBias: positionBias)
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
