import Foundation
import Layers
import TensorCore

/// MPNet's relative position bias (Song et al. 2020, "MPNet"; the bucketing
/// of T5, Raffel et al. 2020), added to every layer's attention scores:
///
///     score_h(i, j) = q_i·k_j / √d + table[bucket(j − i), h]
///
/// with one `[buckets, H]` table shared by all layers
/// (`encoder.relative_attention_bias.weight`). For n = i − j and B = buckets/2,
/// E = B/2 exact buckets and max distance M:
///
///     bucket = (n < 0 ? B : 0) + (|n| < E ? |n| : min(B − 1, E + ⌊log(|n|/E) / log(M/E) · (B − E)⌋))
///
/// (32 buckets, M = 128: offsets 0…7 exact, then logarithmic up to 128, one
/// half of the buckets for keys after the query, the other for keys before.)
///
/// The bias depends on j − i only, so it is kept per head as a row over
/// every offset: `rows[h][o + L − 1] = table[bucket(o), h]` for
/// o = −(L − 1) … L − 1, L the longest sequence. Row r of a sequence's
/// `[n, n]` score block then adds the contiguous slice starting at L − 1 − r.
struct RelativePositionBias {
    let headCount: Int
    /// Longest sequence the rows cover.
    let maximumLength: Int
    /// `[H, 2L − 1]`.
    let rows: FloatBuffer

    /// Builds the rows from `table` `[buckets, H]` (PyTorch's `nn.Embedding` layout).
    init(table: [Float], bucketCount: Int, maximumDistance: Int, headCount H: Int, maximumLength L: Int) {
        precondition(table.count == bucketCount * H, "the bias table must be [buckets, heads]")
        headCount = H
        maximumLength = L
        let width = 2 * L - 1
        var rows = [Float](repeating: 0, count: H * width)
        for offset in -(L - 1)...(L - 1) {
            let bucket = RelativePositionBias.bucket(offset, bucketCount: bucketCount, maximumDistance: maximumDistance)
            for h in 0..<H { rows[h * width + offset + L - 1] = table[bucket * H + h] }
        }
        self.rows = FloatBuffer(rows)
    }

    /// The bucket of relative position `offset` = key index − query index.
    ///
    /// The logarithm is taken in Float as PyTorch does (`torch.log` of a
    /// float32 tensor, divided by float32(log(M/E))), so that the truncation
    /// lands on the same side at the powers of two.
    static func bucket(_ offset: Int, bucketCount: Int, maximumDistance: Int) -> Int {
        let half = bucketCount / 2, exact = half / 2
        let n = -offset
        let base = n < 0 ? half : 0
        let distance = abs(n)
        if distance < exact { return base + distance }
        let ratio = logf(Float(distance) / Float(exact)) / Float(log(Double(maximumDistance) / Double(exact)))
        return base + min(half - 1, exact + Int(ratio * Float(half - exact)))
    }

    /// `scores[r, j] += rows[h][L − 1 − r + j]` for a sequence's `[n, n]`
    /// block of head `h` (row stride n).
    func add(to scores: UnsafeMutablePointer<Float>, head h: Int, length n: Int) {
        precondition(n <= maximumLength, "sequence of \(n) tokens; the position bias covers \(maximumLength)")
        let row = UnsafePointer(rows.pointer + h * (2 * maximumLength - 1) + maximumLength - 1)
        for r in 0..<n {
            let p = scores + r * n
            Vector.add(p, row - r, p, count: n)
        }
    }
}
