import Foundation

extension CheckedStateDict {
    /// The weight a spectral-normalised module (`torch.nn.utils.spectral_norm`)
    /// uses in eval mode, from `prefix.weight_orig` (of `shape`),
    /// `prefix.weight_u` `[shape[0]]` and `prefix.weight_v` `[∏ shape[1…]]`:
    ///
    ///     σ = uᵀ · W · v     (W = weight_orig as a [shape[0], ∏ shape[1…]] matrix)
    ///     weight = weight_orig / σ
    ///
    /// Eval mode runs no power iteration: u and v are used as stored.
    func spectralNormalized(_ prefix: String, _ shape: [Int]) throws -> [Float] {
        let rows = shape[0], columns = shape.dropFirst().reduce(1, *)
        var weight = try scalars("\(prefix).weight_orig", shape)
        let u = try scalars("\(prefix).weight_u", [rows])
        let v = try scalars("\(prefix).weight_v", [columns])
        var sigma = 0.0
        for r in 0..<rows {
            var wv = 0.0
            for c in 0..<columns { wv += Double(weight[r * columns + c]) * Double(v[c]) }
            sigma += Double(u[r]) * wv
        }
        let divisor = Float(sigma)
        guard divisor.isFinite, divisor != 0 else {
            throw ExpertError.badAsset(path: path, problem: "'\(prefix)': its spectral norm uᵀWv is \(divisor)")
        }
        for i in weight.indices { weight[i] /= divisor }
        return weight
    }
}

/// BatchNorm statistics for a truncation value, as `BigGANBatchNorm` picks
/// them from its table `[n_stats, C]` (row k belongs to truncation k/(n_stats − 1)):
///
///     (start, coef) = (integer part, fraction) of t / (1/(n_stats − 1))   (in Double)
///     coef = 0: row[start]
///     else:     row[start]·coef + row[start + 1]·(1 − coef)                (in Float)
///
/// The weights are the other way round from a linear interpolation, and the
/// quotient is rarely a whole number: with 51 rows, t = 0.4 gives
/// 20.000000000000004 and reads row 21 (almost entirely), not row 20; with 11
/// rows, t = 0.3 gives 2.9999999999999996 and reads row 2, not row 3. The
/// published models run this way, and so does this.
struct TruncatedStatistics {
    let table: [Float]
    let rows: Int
    let channels: Int

    func row(truncation: Double) -> [Float] {
        let quotient = truncation / (1.0 / Double(rows - 1))
        let whole = quotient.rounded(.towardZero)
        let coef = quotient - whole
        let start = min(max(0, Int(whole)), rows - 1)
        let C = channels
        if coef == 0 || start + 1 >= rows { return Array(table[(start * C)..<((start + 1) * C)]) }
        let a = Float(coef), b = Float(1 - coef)
        return (0..<C).map { c in table[start * C + c] * a + table[(start + 1) * C + c] * b }
    }
}
