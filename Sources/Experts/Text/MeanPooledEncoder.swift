import Foundation
import TensorCore

/// What MiniLM and MPNet share around their transformer: batches of token
/// sequences in, sentence embeddings out, by mean pooling over the real
/// tokens and L2 normalisation (sentence-transformers' Pooling + Normalize):
///
///     m = (1/n) Σ_{t < n} h_t,   z = m / max(‖m‖, 1e-12)        → `[N, D]`
///
/// with h `[n, D]` the last hidden states of a sequence of n tokens (padding
/// excluded). The model supplies `forward`, which writes h of a batch into
/// `workspace.hidden`.
///
/// Inputs are split into passes of at most `maximumBatch` sequences (bounds
/// the workspaces); each pass is split into two groups of about equal token
/// count, encoded concurrently. The workspaces are reused and guarded by a lock.
final class MeanPooledEncoder: @unchecked Sendable {
    // @unchecked: the workspaces and the padding mode are guarded by `lock`.
    let shape: EncoderLayerShape
    /// Sequences per internal pass.
    let maximumBatch = 64
    /// One workspace per concurrent group of sentences.
    private let workspaces: [EncoderWorkspace]
    private let lock = NSLock()
    private var padded = false

    init(shape: EncoderLayerShape) {
        self.shape = shape
        workspaces = (0..<2).map { _ in
            EncoderWorkspace(hiddenSize: shape.hiddenSize, intermediateSize: shape.intermediateSize)
        }
    }

    /// Whether a batch runs padded to its longest sequence with masked keys
    /// (as PyTorch does) or packed without padding. Same results; packed
    /// skips the work on padding.
    var padsBatches: Bool {
        get { lock.withLock { padded } }
        set { lock.withLock { padded = newValue } }
    }

    /// Embeddings `[N, D]` of `tokenIDs`; an empty batch gives `[0, D]`, an
    /// empty sequence a zero row. `forward(ids, batch, workspace)` runs the
    /// model on one group (it may be called from two threads at once, with
    /// different workspaces). A sequence longer than `maximumTokens`, or an
    /// id outside `0..<vocabularySize`, is a programmer error.
    func embed(_ tokenIDs: [[Int32]], maximumTokens: Int, vocabularySize: Int,
               forward: ([[Int32]], SequenceBatch, EncoderWorkspace) -> Void) -> Tensor {
        for (s, ids) in tokenIDs.enumerated() {
            precondition(ids.count <= maximumTokens,
                         "sequence \(s) has \(ids.count) tokens; the model takes at most \(maximumTokens)")
            for id in ids {
                precondition(id >= 0 && Int(id) < vocabularySize,
                             "sequence \(s) has token id \(id) outside the vocabulary 0..<\(vocabularySize)")
            }
        }
        let D = shape.hiddenSize
        var output = Tensor(zeros: [tokenIDs.count, D])
        guard !tokenIDs.isEmpty else { return output }
        lock.withLock {
            output.withUnsafeMutableBufferPointer { out in
                var start = 0
                while start < tokenIDs.count {
                    let end = min(tokenIDs.count, start + maximumBatch)
                    encodeConcurrently(Array(tokenIDs[start..<end]), forward: forward, into: out.baseAddress! + start * D)
                    start = end
                }
            }
        }
        return output
    }

    /// Splits a batch into two groups of about equal token count and
    /// encodes them concurrently, one per core with single-threaded GEMMs
    /// (OpenBLAS scales poorly inside one GEMM of a few hundred rows on 2
    /// cores). Results equal one pass over the whole batch.
    private func encodeConcurrently(_ tokenIDs: [[Int32]], forward: ([[Int32]], SequenceBatch, EncoderWorkspace) -> Void,
                                    into out: UnsafeMutablePointer<Float>) {
        let D = shape.hiddenSize
        guard tokenIDs.count >= 2, Parallel.threadCount >= 2 else {
            encode(tokenIDs, workspace: workspaces[0], forward: forward, into: out)
            return
        }
        let total = tokenIDs.reduce(0) { $0 + $1.count }
        var split = 0, running = 0
        while split < tokenIDs.count - 1 && 2 * (running + tokenIDs[split].count) <= total {
            running += tokenIDs[split].count
            split += 1
        }
        split = max(1, split)
        let groups = [Array(tokenIDs[..<split]), Array(tokenIDs[split...])]
        ComputeThreads.forEachIndependentTask(2) { g in
            encode(groups[g], workspace: workspaces[g], forward: forward, into: out + (g == 0 ? 0 : split * D))
        }
    }

    /// Runs one group and writes its pooled, normalised rows to `out`.
    private func encode(_ tokenIDs: [[Int32]], workspace: EncoderWorkspace,
                        forward: ([[Int32]], SequenceBatch, EncoderWorkspace) -> Void, into out: UnsafeMutablePointer<Float>) {
        let D = shape.hiddenSize
        let batch = SequenceBatch(lengths: tokenIDs.map(\.count), padded: padded, headCount: shape.headCount)
        workspace.reserve(for: batch)
        forward(tokenIDs, batch, workspace)
        // Mean over real tokens (padding excluded), then z / max(‖z‖, 1e-12) as torch's F.normalize.
        let hidden = workspace.hidden.pointer
        for s in 0..<batch.count {
            let row = out + s * D
            let n = batch.lengths[s]
            guard n > 0 else { continue }
            for t in 0..<n { Vector.axpy(1, hidden + (batch.rowStarts[s] + t) * D, row, count: D) }
            Vector.scale(row, by: 1 / Float(n), count: D)
            let norm = Float(Vector.sumOfSquares(row, count: D).squareRoot())
            Vector.scale(row, by: 1 / max(norm, 1e-12), count: D)
        }
    }
}
