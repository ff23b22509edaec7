import Layers
import TensorCore

/// BERT multi-head self-attention with its output projection (no residual):
///
///     [Q K V] = x·[W_q; W_k; W_v]ᵀ + [b_q; b_k; b_v]      one GEMM, [R, 3D]
///     A_h     = softmax(Q_h·K_hᵀ / √d + bias_h + mask)     per sequence and head
///     y       = concat_h(A_h·V_h)·W_oᵀ + b_o
///
/// Shapes: x, y `[R, D]`; W_q, W_k, W_v, W_o `[D, D]` as PyTorch stores them
/// (concatenated into one `[3D, D]` weight at load time); d = D / heads.
/// The mask removes keys past a sequence's real length (padding): those
/// get probability 0, exactly what adding a large negative score gives.
/// bias_h is MPNet's ``RelativePositionBias`` (none for BERT).
struct BERTSelfAttention {
    let hiddenSize: Int
    let headCount: Int
    /// `[3D, D]`: query, key, value weights stacked.
    let qkvWeight: FloatBuffer
    /// `[3D]`.
    let qkvBias: FloatBuffer
    let outputWeight: FloatBuffer
    let outputBias: FloatBuffer

    /// Loads the query, key, value and output projections named by `keys`.
    init(_ weights: CheckedWeights, keys: EncoderLayerKeys, shape: EncoderLayerShape) throws {
        hiddenSize = shape.hiddenSize
        headCount = shape.headCount
        let D = shape.hiddenSize
        var weight = [Float](), bias = [Float]()
        weight.reserveCapacity(3 * D * D)
        for part in [keys.query, keys.key, keys.value] {
            weight += try weights.scalars("\(part).weight", [D, D])
            bias += try weights.scalars("\(part).bias", [D])
        }
        qkvWeight = FloatBuffer(transposeMatrix(weight, rows: 3 * D, columns: D))  // kept as [D, 3D]
        qkvBias = FloatBuffer(bias)
        outputWeight = try weights.transposedBuffer("\(keys.attentionOutput).weight", [D, D])
        outputBias = try weights.buffer("\(keys.attentionOutput).bias", [D])
    }

    /// Reads `workspace.hidden`, writes the projected attention output to
    /// `workspace.projected`.
    func forward(batch: SequenceBatch, workspace w: EncoderWorkspace, positionBias: RelativePositionBias? = nil) {
        let D = hiddenSize, H = headCount, d = D / H, R = batch.rowTotal
        let qkv = w.qkv.pointer, heads = w.heads.pointer, scores = w.scores.pointer, context = w.context.pointer
        Linear.affine(w.hidden.pointer, ldx: D, batch: R, weight: qkvWeight.pointer, bias: qkvBias.pointer,
                      inputDimension: D, outputDimension: 3 * D, storedTransposed: true, into: qkv, ldy: 3 * D)
        let scale = 1 / Float(d).squareRoot()
        // One task per (sequence, head): gather its Q, K, V into contiguous
        // [n, d] blocks, then two small GEMMs around a masked softmax.
        ComputeThreads.forEachIndependentTask(batch.count * H) { task in
            let s = task / H, h = task % H
            let n = batch.rowCounts[s], start = batch.rowStarts[s], valid = batch.lengths[s]
            guard n > 0 else { return }
            let q = heads + (0 * H + h) * R * d + start * d
            let k = heads + (1 * H + h) * R * d + start * d
            let v = heads + (2 * H + h) * R * d + start * d
            for r in 0..<n {
                let source = qkv + (start + r) * 3 * D + h * d
                (q + r * d).update(from: source, count: d)
                (k + r * d).update(from: source + D, count: d)
                (v + r * d).update(from: source + 2 * D, count: d)
            }
            let p = scores + batch.scoreStarts[s] + h * n * n
            gemm(.none, .transposed, m: n, n: n, k: d, alpha: scale, a: q, lda: d, b: k, ldb: d, c: p, ldc: n)
            positionBias?.add(to: p, head: h, length: n)
            for r in 0..<n { BERTSelfAttention.maskedSoftmax(p + r * n, valid: valid, count: n) }
            gemm(.none, .none, m: n, n: d, k: valid, a: p, lda: n, b: v, ldb: d,
                 c: context + start * D + h * d, ldc: D)
        }
        Linear.affine(context, ldx: D, batch: R, weight: outputWeight.pointer, bias: outputBias.pointer,
                      inputDimension: D, outputDimension: D, storedTransposed: true, into: w.projected.pointer, ldy: D)
    }

    /// `x[j] ← e^(x[j] − m) / Σ_{j' < valid} e^(x[j'] − m)` for `j < valid`,
    /// with m the maximum of those, and 0 for masked keys `valid ≤ j < count`.
    static func maskedSoftmax(_ x: UnsafeMutablePointer<Float>, valid: Int, count: Int) {
        var m = -Float.infinity
        for j in 0..<valid { m = max(m, x[j]) }
        for j in 0..<valid { x[j] -= m }
        Vector.exp(x, x, count: valid)
        let inverse = 1 / Vector.sum(x, count: valid)
        Vector.scale(x, by: inverse, count: valid)
        if count > valid { (x + valid).update(repeating: 0, count: count - valid) }
    }
}
