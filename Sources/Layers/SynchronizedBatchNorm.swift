import CKernels
import TensorCore

/// BatchNorm over a batch split across processes: the statistics are those
/// of the whole batch (n = globalBatch · S values per channel), formed from
/// every process's sums, so the result does not depend on the split.
///
/// Forward: μ = Σx / n and σ² = Σ(x − μ)² / n, each sum over all processes
/// (two reductions: the squared deviations need the global mean first).
/// Backward: Σdy and Σ(dy·x̂) are summed over processes for dx; dγ and dβ
/// get only this process's share, since the parameter gradients are summed
/// over processes afterwards with the rest of the gradient.
extension BatchNorm {
    public func forwardTraining(_ x: UnsafePointer<Float>, batch: Int, spatial: Int = 1,
                                parameters: UnsafePointer<Float>, buffers: UnsafeMutablePointer<Float>,
                                updateRunningStatistics: Bool,
                                normalized: UnsafeMutablePointer<Float>, inverseStd: UnsafeMutablePointer<Float>,
                                into y: UnsafeMutablePointer<Float>, shard: BatchShard) {
        let C = channels, B = batch, S = spatial
        let count = shard.globalBatch * S
        precondition(count > 1, "BatchNorm in training needs more than one value per channel")
        let sums = UnsafeMutableBufferPointer<Double>.allocate(capacity: C)
        let squares = UnsafeMutableBufferPointer<Double>.allocate(capacity: C)
        defer { sums.deallocate(); squares.deallocate() }
        forEachChannel(elements: B * S) { c in
            var total = 0.0
            for b in 0..<B { total += Double(Vector.sum(x + (b * C + c) * S, count: S)) }
            sums[c] = total
        }
        shard.sumOverProcesses(sums)
        forEachChannel(elements: B * S) { c in
            let mean = Float(sums[c] / Double(count))
            var total = 0.0
            for b in 0..<B {
                total += Double(Vector.sumOfSquaredDeviations(x + (b * C + c) * S, count: S, mean: mean))
            }
            squares[c] = total
        }
        shard.sumOverProcesses(squares)
        forEachChannel(elements: B * S) { c in
            normalizeChannel(c, x, batch: B, spatial: S, mean: Float(sums[c] / Double(count)), squares: squares[c],
                             count: count, parameters: parameters, buffers: buffers,
                             updateRunningStatistics: updateRunningStatistics, normalized: normalized,
                             inverseStd: inverseStd, into: y)
        }
    }

    /// `dx = γ·istd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))` with the sums over the
    /// whole batch; this process's Σdy and Σ(dy·x̂) are added to dβ and dγ.
    public func backward(dy: UnsafePointer<Float>, batch: Int, spatial: Int = 1,
                         normalized: UnsafePointer<Float>, inverseStd: UnsafePointer<Float>,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                         dx: UnsafeMutablePointer<Float>, shard: BatchShard) {
        let C = channels, B = batch, S = spatial
        let count = shard.globalBatch * S
        let sums = UnsafeMutableBufferPointer<Double>.allocate(capacity: 2 * C)  // Σdy, then Σ(dy·x̂)
        defer { sums.deallocate() }
        forEachChannel(elements: B * S) { c in
            var sumDy = 0.0, sumDyX = 0.0
            for b in 0..<B {
                let offset = (b * C + c) * S
                sumDy += Double(Vector.sum(dy + offset, count: S))
                sumDyX += Double(Vector.dot(dy + offset, normalized + offset, count: S))
            }
            sums[c] = sumDy
            sums[C + c] = sumDyX
            gradients[weightOffset + c] += Float(sumDyX)
            gradients[biasOffset + c] += Float(sumDy)
        }
        shard.sumOverProcesses(sums)
        forEachChannel(elements: B * S) { c in
            let a = parameters[weightOffset + c] * inverseStd[c]
            let meanDy = Float(sums[c] / Double(count)) * a
            let meanDyX = Float(sums[C + c] / Double(count)) * a
            for b in 0..<B {
                let offset = (b * C + c) * S
                n2n_scaled_difference(dy + offset, normalized + offset, dx + offset, S, a, meanDy, meanDyX)
            }
        }
    }
}
