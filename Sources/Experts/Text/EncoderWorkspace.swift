import Layers

/// Activation buffers of one encoder pass, grown on demand and reused
/// between calls so that a steady stream of batches never allocates.
///
/// For R activation rows, hidden D, FFN F and S score elements:
/// hidden `[R, D]`, qkv `[R, 3D]`, heads `[3, H, R, D/H]` (Q, K, V per head,
/// contiguous), scores `[S]`, context `[R, D]`, projected `[R, D]`,
/// intermediate `[R, F]`.
final class EncoderWorkspace {
    private(set) var rowCapacity = 0
    private(set) var scoreCapacity = 0
    let hiddenSize: Int
    let intermediateSize: Int

    private(set) var hidden = FloatBuffer(count: 0)
    private(set) var qkv = FloatBuffer(count: 0)
    private(set) var heads = FloatBuffer(count: 0)
    private(set) var scores = FloatBuffer(count: 0)
    private(set) var context = FloatBuffer(count: 0)
    private(set) var projected = FloatBuffer(count: 0)
    private(set) var intermediate = FloatBuffer(count: 0)

    init(hiddenSize: Int, intermediateSize: Int) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
    }

    /// Makes room for `batch`; keeps the buffers when they are large enough.
    func reserve(for batch: SequenceBatch) {
        if batch.rowTotal > rowCapacity {
            let rows = max(batch.rowTotal, rowCapacity * 3 / 2)
            hidden = FloatBuffer(count: rows * hiddenSize)
            qkv = FloatBuffer(count: rows * 3 * hiddenSize)
            heads = FloatBuffer(count: rows * 3 * hiddenSize)
            context = FloatBuffer(count: rows * hiddenSize)
            projected = FloatBuffer(count: rows * hiddenSize)
            intermediate = FloatBuffer(count: rows * intermediateSize)
            rowCapacity = rows
        }
        if batch.scoreTotal > scoreCapacity {
            let count = max(batch.scoreTotal, scoreCapacity * 3 / 2)
            scores = FloatBuffer(count: count)
            scoreCapacity = count
        }
    }
}
