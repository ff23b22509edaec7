import Foundation
import TensorCore

/// The all-MiniLM-L6-v2 sentence encoder (Wang et al. 2020, "MiniLM";
/// Reimers & Gurevych 2019, "Sentence-BERT"): a 6-layer post-LN BERT,
/// mean pooling over the real tokens, then L2 normalisation.
///
///     h⁰ = Embeddings(ids),  hˡ = BERTLayer_l(hˡ⁻¹),
///     z  = m / ‖m‖,  m = (1/n) Σ_{t < n} h⁶_t        → `[N, 384]`
///
/// Reads a Hugging Face / sentence-transformers folder: `config.json` and
/// `model.safetensors` (memory-mapped; keys as `BertModel` names them).
/// Tokenisation (uncased WordPiece, `[CLS] … [SEP]`, ≤ 256 tokens as
/// sentence-transformers truncates) happens before `embed`.
///
/// `embed` reuses its workspaces and is serialised by a lock; threading
/// follows `ComputeThreads` (BLAS threads for GEMMs, `Parallel` for the
/// row-wise kernels, one task per head for attention).
public final class MiniLMEncoder: @unchecked Sendable {
    // @unchecked: weights are immutable after init; the workspace is guarded by `lock`.
    public let configuration: MiniLMConfiguration
    /// Output width, the hidden size (384).
    public var dimension: Int { configuration.hiddenSize }
    /// Sequences per internal pass; longer inputs are split (bounds workspace size).
    public let maximumBatch = 64

    /// Whether a batch runs padded to its longest sequence with masked keys
    /// (as PyTorch does) or packed without padding. Same results; packed
    /// skips the work on padding.
    public var padsBatches: Bool {
        get { lock.withLock { padded } }
        set { lock.withLock { padded = newValue } }
    }

    private let embeddings: BERTEmbeddings
    private let layers: [BERTLayer]
    /// One workspace per concurrent group of sentences.
    private let workspaces: [EncoderWorkspace]
    private let lock = NSLock()
    private var padded = false

    /// Loads `directory/config.json` and `directory/model.safetensors`,
    /// checking every tensor's presence and shape.
    public init(directory: URL) throws {
        let configURL = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw ExpertError.badAsset(path: configURL.path, problem: "file is missing")
        }
        let c = try MiniLMConfiguration(contentsOf: configURL)
        let weights = try CheckedWeights(contentsOf: directory.appendingPathComponent("model.safetensors"))
        configuration = c
        embeddings = try BERTEmbeddings(weights, configuration: c)
        layers = try (0..<c.layerCount).map { try BERTLayer(weights, index: $0, configuration: c) }
        workspaces = (0..<2).map { _ in EncoderWorkspace(hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize) }
    }

    /// Sentence embeddings `[N, 384]`, unit L2 norm, for token id sequences
    /// (each `[CLS] … [SEP]`, at most `maxPositions` ids). An empty batch
    /// gives `[0, 384]`; an empty sequence gives a zero row.
    public func embed(tokenIDs: [[Int32]]) -> Tensor {
        let D = configuration.hiddenSize
        for (s, ids) in tokenIDs.enumerated() {
            precondition(ids.count <= configuration.maxPositions,
                         "sequence \(s) has \(ids.count) tokens; the model takes at most \(configuration.maxPositions)")
            for id in ids {
                precondition(id >= 0 && Int(id) < configuration.vocabularySize,
                             "sequence \(s) has token id \(id) outside the vocabulary 0..<\(configuration.vocabularySize)")
            }
        }
        var output = Tensor(zeros: [tokenIDs.count, D])
        guard !tokenIDs.isEmpty else { return output }
        lock.withLock {
            output.withUnsafeMutableBufferPointer { out in
                var start = 0
                while start < tokenIDs.count {
                    let end = min(tokenIDs.count, start + maximumBatch)
                    encodeConcurrently(Array(tokenIDs[start..<end]), into: out.baseAddress! + start * D)
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
    private func encodeConcurrently(_ tokenIDs: [[Int32]], into out: UnsafeMutablePointer<Float>) {
        let D = configuration.hiddenSize
        guard tokenIDs.count >= 2, Parallel.threadCount >= 2 else {
            encode(tokenIDs, workspace: workspaces[0], into: out)
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
            encode(groups[g], workspace: workspaces[g], into: out + (g == 0 ? 0 : split * D))
        }
    }

    /// Runs one batch and writes its pooled, normalised rows to `out`.
    private func encode(_ tokenIDs: [[Int32]], workspace: EncoderWorkspace, into out: UnsafeMutablePointer<Float>) {
        let D = configuration.hiddenSize
        let batch = SequenceBatch(lengths: tokenIDs.map(\.count), padded: padded, headCount: configuration.headCount)
        workspace.reserve(for: batch)
        embeddings.forward(tokenIDs, batch: batch, into: workspace.hidden.pointer)
        for layer in layers { layer.forward(batch: batch, workspace: workspace) }
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
